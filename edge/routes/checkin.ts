// The door: staff (or admins) check tickets in, one scan at a time or as an
// offline scanner's upload, and read an event's revocations and figures.
// A scan goes to the check-in shard of the event its code names (read
// without trusting it; the actor checks the signature).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BatchBody,
  BatchResults,
  checkin,
  CheckinBody,
  CheckinFigures,
  CheckinResult,
  peekTicketCode,
  RevokedList,
  RevokedQuery,
} from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome, sendProblem } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { uploadScans } from './checkin-batch.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';
import { ticketExamples } from './ticket-examples.js';

export const checkinRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.post(
    '/v1/checkin',
    {
      preHandler: app.requireStaff,
      config: { audit: 'checkin.scan' },
      schema: {
        tags: ['check-in'],
        summary: 'Check a ticket in, exactly once (staff)',
        security: bearer,
        body: withExample(CheckinBody, ticketExamples.checkinBody),
        description:
          "A second scan of one ticket is 409 ALREADY_CHECKED_IN with the first scan's time and gate; the same nonce again gets the first answer.",
        response: {
          200: withExample(CheckinResult, ticketExamples.checkedIn),
          ...problems(400, 401, 403, 409, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const { code, eventId, gate, nonce } = request.body;
      const claims = peekTicketCode(code);
      if (!claims) return sendProblem(reply, 'INVALID_TICKET', 'the code is not a ticket code');
      return sendOutcome(
        reply,
        await broker.call(
          checkin.scan,
          { code, eventId: claims.eventId, expectedEventId: eventId, gate, nonce },
          callContext(request),
        ),
      );
    },
  );

  app.post(
    '/v1/checkin/batch',
    {
      preHandler: app.requireStaff,
      config: { audit: 'checkin.batch' },
      schema: {
        tags: ['check-in'],
        summary: "Upload an offline scanner's scans; the earliest scan of a ticket wins (staff)",
        security: bearer,
        body: withExample(BatchBody, ticketExamples.batchBody),
        response: { 200: withExample(BatchResults, ticketExamples.batchResults), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await uploadScans(broker, request.body.scans, callContext(request))),
  );

  app.get(
    '/v1/events/:id/checkin/revoked',
    {
      preHandler: app.requireStaff,
      schema: {
        tags: ['check-in'],
        summary: 'Tickets of the event revoked since a time, for offline scanners (staff)',
        security: bearer,
        params: IdParams,
        querystring: RevokedQuery,
        response: { 200: withExample(RevokedList, ticketExamples.revoked), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          checkin.revoked,
          { eventId: request.params.id, since: request.query.since },
          callContext(request),
        ),
      ),
  );

  app.get(
    '/v1/events/:id/checkin',
    {
      preHandler: app.requireStaff,
      schema: {
        tags: ['check-in'],
        summary: "The event's check-in figure: checked in / sold, per gate (staff)",
        security: bearer,
        params: IdParams,
        response: { 200: withExample(CheckinFigures, ticketExamples.figures), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(checkin.figures, { eventId: request.params.id }, callContext(request))),
  );
};
