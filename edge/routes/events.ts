import etag from '@fastify/etag';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CreateEvent, Event, EventChanges, EventPage, inventory, ListEvents } from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { examples, withExample } from './examples.js';
import { bearer, IdempotencyHeaders, IdParams, problems } from './schemas.js';

const ConditionalHeaders = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag of a copy the client holds' })),
});
const NotModified = Type.Null({ description: 'Not modified: the ETag in If-None-Match is current' });

export const eventRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker, events }) => {
  // ETag on every event read; a matching If-None-Match is 304 with no body. Single
  // events carry the ETag computed once when they entered the cache.
  await app.register(etag);

  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events',
        querystring: ListEvents,
        response: { 200: withExample(EventPage, examples.eventPage), ...problems(400, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(inventory.listEvents, request.query, callContext(request))),
  );

  app.get(
    '/v1/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'Read one event',
        params: IdParams,
        headers: ConditionalHeaders,
        description:
          'Served from the edge caches: `available` is at most 1 s old (EVENTLY_CACHE_L1_TTL_MS + EVENTLY_CACHE_L2_TTL_MS).',
        response: { 200: withExample(Event, examples.event), 304: NotModified, ...problems(400, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const eventId = request.params.id;
      const outcome = await events.get(eventId, () =>
        broker.call(inventory.getEvent, { eventId }, callContext(request)),
      );
      if (!outcome.ok) return sendOutcome(reply, outcome);
      // Already serialized (a JSON string is sent as it is), with the ETag of exactly these
      // bytes; the type provider only knows the object form, hence the cast.
      return reply
        .header('etag', outcome.value.etag)
        .header('cache-control', 'no-cache')
        .type('application/json; charset=utf-8')
        .send(outcome.value.body as never);
    },
  );

  app.post(
    '/v1/events',
    {
      onRequest: app.requireAdmin,
      config: { audit: 'event.create' },
      schema: {
        tags: ['events'],
        summary: 'Create an event (admin)',
        security: bearer,
        headers: IdempotencyHeaders,
        body: withExample(CreateEvent, examples.createEvent),
        response: { 201: withExample(Event, examples.event), ...problems(400, 401, 403, 409, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(inventory.createEvent, request.body, callContext(request))),
  );

  app.patch(
    '/v1/events/:id',
    {
      onRequest: app.requireAdmin,
      config: { audit: 'event.update' },
      schema: {
        tags: ['events'],
        summary: 'Edit an event (admin)',
        security: bearer,
        params: IdParams,
        body: withExample(EventChanges, examples.eventChanges),
        response: { 200: withExample(Event, examples.event), ...problems(400, 401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          inventory.updateEvent,
          { eventId: request.params.id, changes: request.body },
          callContext(request),
        ),
      ),
  );

  app.post(
    '/v1/events/:id/cancel',
    {
      onRequest: app.requireAdmin,
      config: { audit: 'event.cancel' },
      schema: {
        tags: ['events'],
        summary: 'Cancel an event and every booking of it (admin)',
        security: bearer,
        params: IdParams,
        response: {
          200: withExample(Event, { ...examples.event, status: 'cancelled', available: 500 }),
          ...problems(400, 401, 403, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(inventory.cancelEvent, { eventId: request.params.id }, callContext(request)),
      ),
  );
};
