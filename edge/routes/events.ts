import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateEvent, Event, EventChanges, EventPage, inventory, ListEvents } from '../../actors/protocol/index.js';
import { callContext } from '../plugins/broker.js';
import { sendOutcome } from '../plugins/problems.js';
import type { EdgeDeps } from '../server.js';
import { bearer, IdempotencyHeaders, IdParams, problems } from './schemas.js';

export const eventRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.get('/v1/events', {
    schema: { tags: ['events'], summary: 'List events', querystring: ListEvents, response: { 200: EventPage, ...problems(400, 503, 504) } },
  }, async (request, reply) => sendOutcome(reply, await broker.call(inventory.listEvents, request.query, callContext(request))));

  app.get('/v1/events/:id', {
    schema: { tags: ['events'], summary: 'Read one event', params: IdParams, response: { 200: Event, ...problems(400, 404, 503, 504) } },
  }, async (request, reply) => sendOutcome(reply, await broker.call(inventory.getEvent, { eventId: request.params.id }, callContext(request))));

  app.post('/v1/events', {
    preHandler: app.requireAdmin,
    config: { audit: 'event.create' },
    schema: {
      tags: ['events'], summary: 'Create an event (admin)', security: bearer, headers: IdempotencyHeaders, body: CreateEvent,
      response: { 201: Event, ...problems(400, 401, 403, 409, 503, 504) },
    },
  }, async (request, reply) => sendOutcome(reply, await broker.call(inventory.createEvent, request.body, callContext(request))));

  app.patch('/v1/events/:id', {
    preHandler: app.requireAdmin,
    config: { audit: 'event.update' },
    schema: {
      tags: ['events'], summary: 'Edit an event (admin)', security: bearer, params: IdParams, body: EventChanges,
      response: { 200: Event, ...problems(400, 401, 403, 404, 409, 503, 504) },
    },
  }, async (request, reply) => sendOutcome(reply,
    await broker.call(inventory.updateEvent, { eventId: request.params.id, changes: request.body }, callContext(request))));

  app.post('/v1/events/:id/cancel', {
    preHandler: app.requireAdmin,
    config: { audit: 'event.cancel' },
    schema: {
      tags: ['events'], summary: 'Cancel an event and every booking of it (admin)', security: bearer, params: IdParams,
      response: { 200: Event, ...problems(400, 401, 403, 404, 409, 503, 504) },
    },
  }, async (request, reply) => sendOutcome(reply, await broker.call(inventory.cancelEvent, { eventId: request.params.id }, callContext(request))));
};
