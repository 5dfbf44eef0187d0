// Examples for the OpenAPI document: one realistic value per request body and
// success reply, attached to the route schemas (they never affect validation).
import type { TSchema } from 'typebox';

const eventId = '01937a4c-1f00-7000-8000-0000000000ee';
const userId = '01937a4c-1f00-7000-8000-0000000000aa';

export const eventExample = {
  id: eventId,
  name: 'Hot show',
  description: 'The one everybody wants to see',
  venue: 'Arena',
  startsAt: '2027-06-01T20:00:00.000Z',
  endsAt: '2027-06-01T23:00:00.000Z',
  capacity: 500,
  available: 120,
  held: 4,
  price: 2500,
  currency: 'EUR',
  maxTicketsPerUser: 10,
  status: 'scheduled',
  version: 377,
  createdAt: '2026-11-24T10:00:00.000Z',
  updatedAt: '2026-11-24T19:59:58.120Z',
};

export const bookingExample = {
  id: '01937a4c-1f00-7000-8000-0000000000bb',
  eventId,
  userId,
  quantity: 2,
  unitPrice: 2500,
  totalPrice: 5000,
  currency: 'EUR',
  status: 'confirmed',
  createdAt: '2026-11-24T20:00:00.000Z',
  cancelledAt: null,
};

const userExample = {
  id: userId,
  email: 'me@example.com',
  name: 'Me',
  role: 'user',
  createdAt: '2026-11-24T09:00:00.000Z',
};

const auditRecordExample = {
  id: '01937a4c-1f00-7000-8000-000000000001',
  at: '2026-11-24T20:00:00.000Z',
  userId: '01937a4c-1f00-7000-8000-0000000000aa',
  role: 'user',
  subject: null,
  ip: '198.51.100.7',
  method: 'POST',
  route: '/v1/events/:id/bookings',
  action: 'booking.create',
  targetId: '01937a4c-1f00-7000-8000-0000000000ee',
  status: 409,
  code: 'SOLD_OUT',
  requestId: 'checkout-42',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  durationMs: 3.2,
};

const waitlistEntryExample = {
  id: '01937a4c-1f00-7000-8000-0000000000cc',
  eventId,
  userId,
  quantity: 2,
  priority: 0,
  position: 3,
  status: 'waiting',
  offer: null,
  joinedAt: '2026-11-24T20:01:00.000Z',
};

const offeredEntryExample = {
  ...waitlistEntryExample,
  position: null,
  status: 'offered',
  offer: { holdId: '01937a4c-1f00-7000-8000-0000000000dd', expiresAt: '2026-11-24T20:15:00.000Z' },
};

const pricingReason =
  'demand high: 42 tickets/min over 5 min (12 over 1 h), 81% sold, waitlist 12, 3 h to start → +5.00 (target 31.25)';

export const examples = {
  event: eventExample,
  eventPage: { items: [eventExample], nextCursor: 'WyIyMDI3LTA2LTAxVDIwOjAwOjAwLjAwMFoiLCIwMTkzN2E0YyJd' },
  booking: bookingExample,
  bookingPage: { items: [bookingExample], nextCursor: null },
  auth: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkzN2E0YyIsInJvbGUiOiJ1c2VyIn0.c2lnbmF0dXJl', user: userExample },
  register: { email: 'me@example.com', password: 'a long password', name: 'Me' },
  login: { email: 'me@example.com', password: 'a long password' },
  createEvent: {
    name: 'Hot show',
    venue: 'Arena',
    startsAt: '2027-06-01T20:00:00Z',
    capacity: 500,
    price: 2500,
    currency: 'EUR',
    maxTicketsPerUser: 4,
  },
  eventChanges: { capacity: 600, price: 2900 },
  bookingBody: { quantity: 2 },
  health: { status: 'ok' },
  ready: { status: 'ready', shards: 16 },
  auditPage: { items: [auditRecordExample], nextCursor: null },
  waitlistBody: { quantity: 2 },
  waitlistEntry: waitlistEntryExample,
  offeredEntry: offeredEntryExample,
  waitlistPage: { items: [waitlistEntryExample], nextCursor: null },
  priorityBody: { priority: 5 },
  heldBooking: { ...bookingExample, id: '01937a4c-1f00-7000-8000-0000000000be', createdAt: '2026-11-24T20:05:00.000Z' },
  priceQuote: {
    price: 3000,
    currency: 'EUR',
    basePrice: 2500,
    strategy: 'dynamic',
    reason: pricingReason,
    validUntil: '2026-11-25T20:01:02.000Z',
  },
  pricingBody: { strategy: 'dynamic', floor: 2000, ceiling: 4000, maxStep: 500, intervalSeconds: 60 },
  pricingPolicy: {
    eventId,
    strategy: 'dynamic',
    basePrice: 2500,
    floor: 2000,
    ceiling: 4000,
    maxStep: 500,
    intervalSeconds: 60,
    price: 2500,
    currency: 'EUR',
    reason: 'dynamic pricing within [20.00, 40.00]; demand is first weighed at 2026-11-25T20:01:00.000Z',
  },
  priceHistory: {
    items: [
      {
        id: '01937a4c-1f00-7000-8000-0000000000f1',
        at: '2026-11-25T20:00:00.000Z',
        price: 3000,
        previous: 2500,
        strategy: 'dynamic',
        reason: pricingReason,
        version: 412,
      },
    ],
    nextCursor: null,
  },
  presence: {
    edges: 3,
    events: [{ eventId, watchers: 1240 }],
    edge: { id: 'edge-a1b2', sockets: 412, skippedFrames: 0, terminated: 0 },
  },
} as const;

/** The schema with one example; validation ignores the keyword. */
export const withExample = <T extends TSchema>(schema: T, example: unknown): T => ({ ...schema, examples: [example] });
