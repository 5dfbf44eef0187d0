// Waitlist and hold routes. Joining, reading and leaving go to the waitlist
// actor of the event's shard; confirming a hold goes to inventory, which
// books it under the same locks as any booking.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  Booking,
  inventory,
  PageQuery,
  PriorityBody,
  Uuid,
  waitlist,
  WaitlistBody,
  WaitlistEntry,
  WaitlistPage,
} from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { examples, withExample } from './examples.js';
import { bearer, IdempotencyHeaders, IdParams, problems } from './schemas.js';

const EntryParams = Type.Object({ id: Uuid, entryId: Uuid }, { additionalProperties: false });
const QueueQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

export const waitlistRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.post(
    '/v1/events/:id/waitlist',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'Join the waitlist of a sold-out event (a party waits as one entry)',
        security: bearer,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: withExample(WaitlistBody, examples.waitlistBody),
        response: {
          201: withExample(WaitlistEntry, examples.waitlistEntry),
          ...problems(400, 401, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          waitlist.join,
          { eventId: request.params.id, quantity: request.body.quantity },
          callContext(request),
        ),
      ),
  );

  app.get(
    '/v1/events/:id/waitlist/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'My waitlist entry: position, status and any offer',
        security: bearer,
        params: IdParams,
        response: { 200: withExample(WaitlistEntry, examples.offeredEntry), ...problems(400, 401, 404, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(waitlist.mine, { eventId: request.params.id }, callContext(request))),
  );

  app.delete(
    '/v1/events/:id/waitlist/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'Leave the waitlist (an offered hold goes to the next in line)',
        security: bearer,
        params: IdParams,
        response: { 204: Type.Null(), ...problems(400, 401, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(waitlist.leave, { eventId: request.params.id }, callContext(request));
      return outcome.ok ? reply.code(204).send(null) : sendOutcome(reply, outcome);
    },
  );

  app.get(
    '/v1/events/:id/waitlist',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['waitlist'],
        summary: 'The waiting queue in order (admin)',
        security: bearer,
        params: IdParams,
        querystring: QueueQuery,
        response: { 200: withExample(WaitlistPage, examples.waitlistPage), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(waitlist.list, { eventId: request.params.id, ...request.query }, callContext(request)),
      ),
  );

  app.patch(
    '/v1/events/:id/waitlist/:entryId',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['waitlist'],
        summary: "Set an entry's priority tier (admin; higher is served first)",
        security: bearer,
        params: EntryParams,
        body: withExample(PriorityBody, examples.priorityBody),
        response: {
          200: withExample(WaitlistEntry, { ...examples.waitlistEntry, priority: 5, position: 1 }),
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          waitlist.setPriority,
          { eventId: request.params.id, entryId: request.params.entryId, priority: request.body.priority },
          callContext(request),
        ),
      ),
  );

  app.post(
    '/v1/holds/:id/confirm',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'Book the seats a waitlist offer holds for you',
        security: bearer,
        params: IdParams,
        headers: IdempotencyHeaders,
        response: { 201: withExample(Booking, examples.heldBooking), ...problems(400, 401, 404, 409, 410, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(inventory.confirmHold, { holdId: request.params.id }, callContext(request))),
  );
};
