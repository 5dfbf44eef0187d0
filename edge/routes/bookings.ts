import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Booking, BookingBody, BookingPage, inventory, ListBookings } from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { examples, withExample } from './examples.js';
import { bearer, BookingHeaders, IdParams, problems } from './schemas.js';

export const bookingRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.post(
    '/v1/events/:id/bookings',
    {
      onRequest: app.authenticate,
      preHandler: app.requireAdmission,
      onResponse: app.noteBookingTime,
      config: { rateTier: 'booking', audit: 'booking.create' },
      schema: {
        tags: ['bookings'],
        summary: 'Book tickets',
        security: bearer,
        params: IdParams,
        headers: BookingHeaders,
        body: withExample(BookingBody, examples.bookingBody),
        response: { 201: withExample(Booking, examples.booking), ...problems(400, 401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          inventory.book,
          { eventId: request.params.id, quantity: request.body.quantity },
          callContext(request),
        ),
      ),
  );

  app.get(
    '/v1/bookings',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['bookings'],
        summary: 'List my bookings',
        security: bearer,
        querystring: ListBookings,
        response: { 200: withExample(BookingPage, examples.bookingPage), ...problems(400, 401, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(inventory.listBookings, request.query, callContext(request))),
  );

  app.get(
    '/v1/bookings/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['bookings'],
        summary: 'Read one booking (owner or admin)',
        security: bearer,
        params: IdParams,
        response: { 200: withExample(Booking, examples.booking), ...problems(400, 401, 404, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(inventory.getBooking, { bookingId: request.params.id }, callContext(request)),
      ),
  );

  app.post(
    '/v1/bookings/:id/cancel',
    {
      onRequest: app.authenticate,
      config: { audit: 'booking.cancel' },
      schema: {
        tags: ['bookings'],
        summary: 'Cancel a booking (owner or admin)',
        security: bearer,
        params: IdParams,
        response: {
          200: withExample(
            { ...Booking },
            { ...examples.booking, status: 'cancelled', cancelledAt: '2026-11-25T08:00:00.000Z' },
          ),
          ...problems(400, 401, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(inventory.cancelBooking, { bookingId: request.params.id }, callContext(request)),
      ),
  );
};
