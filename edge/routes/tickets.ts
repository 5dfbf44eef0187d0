// A booking's tickets (owner or admin): the list with signed codes, each
// ticket's QR image, and the confirmation mail again. The published keys
// (anyone: scanners verify offline with them) and their rotation (admin).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkin, KeyList, mailer, ResendReply, TicketList, Uuid } from '../../protocol/index.js';
import { qrPng, qrSvg } from '../../platform/tickets/qr.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome, sendProblem } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';
import { ticketExamples } from './ticket-examples.js';

const TicketParams = Type.Object({ id: Uuid, ticketId: Uuid }, { additionalProperties: false });
const QrQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('svg'), Type.Literal('png')], { default: 'svg' })) },
  { additionalProperties: false },
);

export const ticketRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.get(
    '/v1/bookings/:id/tickets',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['tickets'],
        summary: 'The tickets of a booking with their signed codes (owner or admin)',
        security: bearer,
        params: IdParams,
        response: { 200: withExample(TicketList, ticketExamples.tickets), ...problems(400, 401, 404, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(checkin.tickets, { bookingId: request.params.id }, callContext(request))),
  );

  app.get(
    '/v1/bookings/:id/tickets/:ticketId/qr',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['tickets'],
        summary: "A ticket's QR code as SVG (default) or PNG (owner or admin)",
        security: bearer,
        params: TicketParams,
        querystring: QrQuery,
        response: {
          200: {
            description: "The QR code of the ticket's code",
            content: {
              'image/svg+xml': {
                schema: Type.String({ examples: ['<svg xmlns="http://www.w3.org/2000/svg" …></svg>'] }),
              },
              'image/png': { schema: Type.String({ format: 'binary', examples: ['(PNG bytes)'] }) },
            },
          },
          ...problems(400, 401, 404, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(checkin.tickets, { bookingId: request.params.id }, callContext(request));
      if (!outcome.ok) return sendOutcome(reply, outcome);
      const ticket = outcome.value.items.find((t) => t.id === request.params.ticketId.toLowerCase());
      if (!ticket) return sendProblem(reply, 'NOT_FOUND', 'ticket not found');
      reply.header('cache-control', 'private, no-store');
      // The schema types the body as text for OpenAPI; a PNG is bytes.
      if (request.query.format === 'png')
        return reply.type('image/png').send((await qrPng(ticket.code)) as unknown as string);
      return reply.type('image/svg+xml').send(await qrSvg(ticket.code));
    },
  );

  app.post(
    '/v1/bookings/:id/tickets/resend',
    {
      preHandler: app.authenticate,
      config: { audit: 'tickets.resend' },
      schema: {
        tags: ['tickets'],
        summary: 'Send the confirmation mail with the QR codes again (owner)',
        security: bearer,
        params: IdParams,
        response: { 202: withExample(ResendReply, ticketExamples.resent), ...problems(400, 401, 404, 409, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(mailer.resendTickets, { bookingId: request.params.id }, callContext(request)),
      ),
  );

  app.get(
    '/v1/checkin/keys',
    {
      schema: {
        tags: ['check-in'],
        summary: 'Public keys that verify ticket codes offline (anyone)',
        response: { 200: withExample(KeyList, ticketExamples.keys), ...problems(503, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(checkin.keys, {}, callContext(request))),
  );

  app.post(
    '/v1/admin/checkin/keys/rotate',
    {
      preHandler: app.requireAdmin,
      config: { audit: 'checkin.keys.rotate' },
      schema: {
        tags: ['admin'],
        summary: 'Rotate the ticket signing key; old keys stay published while their tickets live (admin)',
        security: bearer,
        response: { 200: withExample(KeyList, ticketExamples.keys), ...problems(401, 403, 503, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(checkin.rotateKey, {}, callContext(request))),
  );
};
