// Admin routes of the mailer: preview a template with its sample data, read
// the dead-letter store (mails whose every attempt failed) and send one of
// them again. Each is one call to the mailer actor.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DeadLetterPage,
  ListDeadLetters,
  mailer,
  MailPreview,
  MailDelivery,
  PreviewParams,
  PreviewQuery,
} from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';

const previewExample = {
  template: 'booking-confirmed',
  subject: 'Your tickets for Hot show',
  html: '<!doctype html><html lang="en">…<p>Hello &lt;b&gt;Ann &amp; &quot;Bo&quot;&lt;/b&gt;,</p>…</html>',
  text: 'Hello <b>Ann & "Bo"</b>,\n\nyour booking is confirmed: 2 tickets for\n…',
};

const deadLetterExample = {
  id: '01937a4c-1f00-7000-8000-0000000000f1',
  template: 'booking-confirmed',
  status: 'dead',
  domainEventId: '01937a4c-1f00-7000-8000-0000000000e1',
  eventId: '01937a4c-1f00-7000-8000-0000000000ee',
  userId: '01937a4c-1f00-7000-8000-0000000000aa',
  recipient: 'me@example.com',
  attempts: 8,
  nextAttemptAt: '2026-11-24T21:03:30.000Z',
  lastError: 'smtp: connect ECONNREFUSED 127.0.0.1:2525',
  skipReason: null,
  provider: null,
  messageId: null,
  createdAt: '2026-11-24T20:00:00.000Z',
  updatedAt: '2026-11-24T21:03:30.000Z',
};

const MEDIA = { html: 'text/html; charset=utf-8', text: 'text/plain; charset=utf-8' } as const;

export const mailRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.get(
    '/v1/admin/mail/preview/:template',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Render a mail template with its sample data (admin)',
        security: bearer,
        description:
          'format=html (default) or text answers that part as it would be sent; json answers the subject and both parts.',
        params: PreviewParams,
        querystring: PreviewQuery,
        response: {
          200: {
            description: 'The rendered template',
            content: {
              'application/json': { schema: withExample(MailPreview, previewExample) },
              'text/html': { schema: Type.String({ examples: [previewExample.html] }) },
              'text/plain': { schema: Type.String({ examples: [previewExample.text] }) },
            },
          },
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(mailer.preview, { template: request.params.template }, callContext(request));
      const format = request.query.format ?? 'html';
      if (!outcome.ok || format === 'json') return sendOutcome(reply, outcome);
      return reply.type(MEDIA[format]).send(format === 'html' ? outcome.value.html : outcome.value.text);
    },
  );

  app.get(
    '/v1/admin/mail/dead-letters',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Mails whose every attempt failed, newest first (admin)',
        security: bearer,
        querystring: ListDeadLetters,
        response: {
          200: withExample(DeadLetterPage, { items: [deadLetterExample], nextCursor: null }),
          ...problems(400, 401, 403, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(mailer.deadLetters, request.query, callContext(request))),
  );

  app.post(
    '/v1/admin/mail/dead-letters/:id/retry',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Send a dead-lettered mail again, with a fresh set of attempts (admin)',
        security: bearer,
        params: IdParams,
        response: {
          202: withExample(MailDelivery, {
            ...deadLetterExample,
            status: 'pending',
            attempts: 0,
            nextAttemptAt: '2026-11-25T09:00:00.000Z',
          }),
          ...problems(400, 401, 403, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(mailer.retry, { deliveryId: request.params.id }, callContext(request))),
  );
};
