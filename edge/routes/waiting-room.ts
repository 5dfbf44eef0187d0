// Waiting-room routes (docs/api.md "Waiting room"). The admin turns a room on,
// off, and reads it; a signed-in user joins, reads their ticket, leaves.
// Joining and polling carry the `queue` rate tier (per user and per IP); a
// waiting ticket's `pollAfterSeconds` also goes out as Retry-After, for
// generic HTTP clients. A poll is answered by the edge's QueueWatch, which
// follows the room for the users it has asked about (docs/waiting-room.md).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { QueueTicket, Room, RoomBody, RoomList, RoomState, waitroom, type Outcome } from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';

const eventId = '01937a4c-1f00-7000-8000-0000000000ee';
const room = { enabled: true, opensAt: '2027-06-01T10:00:00.000Z', admitPerMinute: null, admissionTtlSeconds: 600 };
const roomState = {
  ...room,
  eventId,
  waiting: 1830,
  admitted: 120,
  expired: 7,
  left: 12,
  measuredAdmitPerMinute: 2400,
  shuffle: { seed: '9f2c…', at: '2027-06-01T10:00:00.212Z', count: 14210 },
};
const ticket = {
  id: '01937a4c-1f00-7000-8000-0000000000c1',
  eventId,
  state: 'waiting',
  position: 412,
  estimatedWaitSeconds: 11,
  pollAfterSeconds: 2,
  joinedAt: '2027-06-01T09:58:12.000Z',
  admittedAt: null,
  admission: null,
};
const path = '/v1/events/:id/waiting-room';

function sendTicket(reply: FastifyReply, outcome: Outcome<QueueTicket>): FastifyReply {
  const after = outcome.ok ? outcome.value.pollAfterSeconds : null;
  if (after !== null) reply.header('retry-after', String(after));
  return sendOutcome(reply, outcome);
}
const tags = ['waiting-room'];

export const waitingRoomRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  const { queue } = app.live;
  app.put(
    path,
    {
      preHandler: app.requireAdmin,
      config: { audit: 'waitroom.room.set' },
      schema: {
        tags,
        summary: "Turn the event's waiting room on or change it (admin)",
        security: bearer,
        params: IdParams,
        body: withExample(RoomBody, { opensAt: room.opensAt }),
        response: { 200: withExample(Room, room), ...problems(400, 401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(waitroom.setRoom, { eventId: request.params.id, ...request.body }, callContext(request)),
      ),
  );

  app.delete(
    path,
    {
      preHandler: app.requireAdmin,
      config: { audit: 'waitroom.room.remove' },
      schema: {
        tags,
        summary: 'Turn the waiting room off (admin); live tickets end',
        security: bearer,
        params: IdParams,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(waitroom.removeRoom, { eventId: request.params.id }, callContext(request));
      return outcome.ok ? reply.code(204).send(null) : sendOutcome(reply, outcome);
    },
  );

  app.get(
    path,
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: "The room's settings, counts and pre-queue draw (admin)",
        security: bearer,
        params: IdParams,
        response: { 200: withExample(RoomState, roomState), ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(waitroom.roomState, { eventId: request.params.id }, callContext(request))),
  );

  app.get(
    '/v1/admin/waiting-rooms',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags,
        summary: 'Every waiting room with its counts (admin, the dashboard panel)',
        security: bearer,
        response: { 200: withExample(RoomList, { items: [roomState] }), ...problems(401, 403, 503, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(waitroom.rooms, {}, callContext(request))),
  );

  app.post(
    path,
    {
      preHandler: app.authenticate,
      config: { rateTier: 'queue', audit: 'waitroom.join' },
      schema: {
        tags,
        summary: 'Join the waiting room (the same ticket again if already in)',
        security: bearer,
        params: IdParams,
        response: {
          200: withExample(QueueTicket, ticket),
          201: withExample(QueueTicket, ticket),
          ...problems(400, 401, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(waitroom.join, { eventId: request.params.id }, callContext(request));
      // A joiner's ticket may be new: their next poll asks the room about it.
      queue.forget(request.params.id, request.user.sub);
      return sendTicket(reply, outcome);
    },
  );

  app.get(
    `${path}/me`,
    {
      preHandler: app.authenticate,
      config: { rateTier: 'queue' },
      schema: {
        tags,
        summary: 'My queue ticket: position, estimated wait, admission',
        security: bearer,
        params: IdParams,
        response: { 200: withExample(QueueTicket, ticket), ...problems(400, 401, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const eventId = request.params.id;
      // A room turned off answers for itself (its tickets ended): nothing this edge followed still holds.
      const outcome = app.waitingRooms.has(eventId.toLowerCase())
        ? await queue.poll(eventId, request.user.sub, callContext(request))
        : await broker.call(waitroom.mine, { eventId }, callContext(request));
      return sendTicket(reply, outcome);
    },
  );

  app.delete(
    `${path}/me`,
    {
      preHandler: app.authenticate,
      config: { audit: 'waitroom.leave' },
      schema: {
        tags,
        summary: 'Leave the waiting room (the place is given up)',
        security: bearer,
        params: IdParams,
        response: { 204: Type.Null(), ...problems(400, 401, 503, 504) },
      },
    },
    async (request, reply) => {
      const outcome = await broker.call(waitroom.leave, { eventId: request.params.id }, callContext(request));
      queue.forget(request.params.id, request.user.sub);
      return outcome.ok ? reply.code(204).send(null) : sendOutcome(reply, outcome);
    },
  );
};
