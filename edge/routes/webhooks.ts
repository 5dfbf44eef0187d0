// Admin routes of outgoing webhooks: register endpoints (the secret is
// answered once), list, read, change, delete, rotate the secret, read an
// endpoint's delivery log and retry a delivery. Each is one call to the
// webhooks actor; what a delivery looks like is in docs/webhooks.md.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  CreateWebhook,
  DeliveriesQuery,
  ListWebhooks,
  UpdateWebhookBody,
  Uuid,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookPage,
  webhooks,
  WebhookWithSecret,
} from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';

const endpointExample = {
  id: '01937a4c-1f00-7000-8000-0000000000a1',
  url: 'https://crm.example.com/hooks/evently',
  events: ['booking.confirmed', 'booking.cancelled'],
  description: 'CRM sync',
  enabled: true,
  disabledReason: null,
  createdAt: '2026-12-06T10:00:00.000Z',
  updatedAt: '2026-12-06T10:00:00.000Z',
};
const secretExample = {
  ...endpointExample,
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  previousSecretExpiresAt: null,
};
const deliveryExample = {
  id: '01937a4c-1f00-7000-8000-0000000000d1',
  eventType: 'booking.confirmed',
  status: 'failed',
  attempts: 2,
  lastStatusCode: 503,
  lastError: 'receiver answered 503',
  lastResponse: 'upstream busy',
  nextAttemptAt: '2026-12-06T10:00:20.000Z',
  deliveredAt: null,
  domainEventId: '01937a4c-1f00-7000-8000-0000000000e1',
  eventId: '01937a4c-1f00-7000-8000-0000000000ee',
  version: 377,
  createdAt: '2026-12-06T10:00:00.000Z',
};
const DeliveryParams = Type.Object({ id: Uuid, deliveryId: Uuid }, { additionalProperties: false });
const tags = ['admin'];

export const webhookRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.post(
    '/v1/admin/webhooks',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Register a webhook endpoint; the answer carries its signing secret, shown only here (admin)',
        security: bearer,
        description:
          'A URL whose host resolves to a loopback, private or link-local address is refused unless EVENTLY_WEBHOOK_ALLOW_HOSTS lists it.',
        body: withExample(CreateWebhook, {
          url: endpointExample.url,
          events: endpointExample.events,
          description: 'CRM sync',
        }),
        response: { 201: withExample(WebhookWithSecret, secretExample), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(webhooks.create, request.body, callContext(request))),
  );

  app.get(
    '/v1/admin/webhooks',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Webhook endpoints, newest first (admin)',
        security: bearer,
        querystring: ListWebhooks,
        response: {
          200: withExample(WebhookPage, { items: [endpointExample], nextCursor: null }),
          ...problems(400, 401, 403, 503, 504),
        },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(webhooks.list, request.query, callContext(request))),
  );

  app.get(
    '/v1/admin/webhooks/:id',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'One webhook endpoint (admin)',
        security: bearer,
        params: IdParams,
        response: { 200: withExample(Webhook, endpointExample), ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(webhooks.get, request.params, callContext(request))),
  );

  app.patch(
    '/v1/admin/webhooks/:id',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Change a webhook endpoint; enabled:true turns a disabled one back on (admin)',
        security: bearer,
        params: IdParams,
        body: withExample(UpdateWebhookBody, { events: ['*'], enabled: true }),
        response: {
          200: withExample(Webhook, { ...endpointExample, events: ['*'] }),
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(webhooks.update, { ...request.body, id: request.params.id }, callContext(request)),
      ),
  );

  app.delete(
    '/v1/admin/webhooks/:id',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Delete a webhook endpoint and its delivery log (admin)',
        security: bearer,
        params: IdParams,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(webhooks.remove, request.params, callContext(request));
      return outcome.ok ? reply.code(204).send(null) : sendOutcome(reply, outcome);
    },
  );

  app.post(
    '/v1/admin/webhooks/:id/rotate-secret',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Give an endpoint a new secret; the old one keeps signing for the grace period (admin)',
        security: bearer,
        params: IdParams,
        description:
          'Until previousSecretExpiresAt (EVENTLY_WEBHOOK_SECRET_GRACE_MS) every delivery carries two v1 signatures, one per secret.',
        response: {
          200: withExample(WebhookWithSecret, {
            ...secretExample,
            previousSecretExpiresAt: '2026-12-07T10:00:00.000Z',
          }),
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(webhooks.rotateSecret, request.params, callContext(request))),
  );

  app.get(
    '/v1/admin/webhooks/:id/deliveries',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest first (admin)",
        security: bearer,
        params: IdParams,
        querystring: DeliveriesQuery,
        response: {
          200: withExample(WebhookDeliveryPage, { items: [deliveryExample], nextCursor: null }),
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(webhooks.deliveries, { ...request.query, id: request.params.id }, callContext(request)),
      ),
  );

  app.post(
    '/v1/admin/webhooks/:id/deliveries/:deliveryId/retry',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Send a delivery again now, with a fresh retry window (admin)',
        security: bearer,
        params: DeliveryParams,
        response: {
          202: withExample(WebhookDelivery, {
            ...deliveryExample,
            status: 'pending',
            nextAttemptAt: '2026-12-06T10:05:00.000Z',
          }),
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(webhooks.retry, request.params, callContext(request))),
  );
};
