// The WebSocket `/ws` protocol (docs/api.md, "WebSocket /ws"): what a client may send and what the
// edge sends back. Declared here so clients, tests and the edge share it.
import { Type, type Static } from 'typebox';
import { Availability } from '../domain-events.js';
import { AlertKind } from './analytics.js';
import { Booking } from './bookings.js';
import { CheckinFigures } from './checkin.js';
import { Timestamp, Uuid } from './common.js';
import { WaitlistEntry } from './waitlist.js';

const EventIds = Type.Array(Uuid, { minItems: 1, maxItems: 100 });

export const ClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('subscribe'), eventIds: EventIds }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('unsubscribe'), eventIds: EventIds }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 4096 }) },
    { additionalProperties: false },
  ),
  /** Admins only, after `auth`: an `activity` frame for every booking, cancellation, price change and alert. */
  Type.Object({ type: Type.Literal('subscribe-dashboard') }, { additionalProperties: false }),
  /** Staff and admins, after `auth`: a `checkin` frame with the event's figure now and as scans happen. */
  Type.Object({ type: Type.Literal('subscribe-checkin'), eventId: Uuid }, { additionalProperties: false }),
  /** Signed in: `queue` frames as the place in the event's waiting room moves, one `admitted` frame. */
  Type.Object({ type: Type.Literal('subscribe-queue'), eventId: Uuid }, { additionalProperties: false }),
]);
export type ClientMessage = Static<typeof ClientMessage>;

export const AvailabilityMessage = Type.Object({
  type: Type.Literal('availability'),
  eventId: Uuid,
  available: Type.Integer(),
  held: Type.Integer(),
  price: Type.Integer(),
  status: Type.String(),
  version: Type.Integer(),
  watchers: Type.Integer({ description: 'Clients watching this event across every edge' }),
});
export type AvailabilityMessage = Static<typeof AvailabilityMessage>;

export const BookingMessage = Type.Object({ type: Type.Literal('booking'), booking: Booking });
export type BookingMessage = Static<typeof BookingMessage>;

/**
 * A position change as `waitlist.positions` announces it: only the fields that
 * event carries (the entry is waiting, its other fields did not change).
 */
export const WaitlistPositionChange = Type.Object({
  id: Uuid,
  eventId: Uuid,
  userId: Uuid,
  position: Type.Integer({ minimum: 1 }),
  status: Type.Literal('waiting'),
});
export type WaitlistPositionChange = Static<typeof WaitlistPositionChange>;

/** A whole entry on join, offer and every status change; a position change alone is the short form. */
export const WaitlistMessage = Type.Object({
  type: Type.Literal('waitlist'),
  entry: Type.Union([WaitlistEntry, WaitlistPositionChange]),
});
export type WaitlistMessage = Static<typeof WaitlistMessage>;

export const ErrorMessage = Type.Object({ type: Type.Literal('error'), code: Type.String(), detail: Type.String() });
export type ErrorMessage = Static<typeof ErrorMessage>;

/** Acknowledges subscribe/unsubscribe/auth so a client knows when it is in effect. */
export const AckMessage = Type.Object({
  type: Type.Literal('ack'),
  of: Type.String(),
  eventIds: Type.Optional(Type.Array(Uuid)),
  userId: Type.Optional(Uuid),
});
export type AckMessage = Static<typeof AckMessage>;

/** The domain events a dashboard hears about. */
export const ActivityKind = Type.Union([
  Type.Literal('booking.confirmed'),
  Type.Literal('booking.cancelled'),
  Type.Literal('price.changed'),
  Type.Literal('analytics.alert'),
]);
export type ActivityKind = Static<typeof ActivityKind>;

/**
 * One domain event, compact, for a dashboard: the seat counts right after it
 * (what utilization bars show without waiting for the analytics actor), and
 * only the fields of its kind. `id` is the domain event's, so a page can drop
 * a redelivery.
 */
export const ActivityMessage = Type.Object({
  type: Type.Literal('activity'),
  kind: ActivityKind,
  id: Uuid,
  eventId: Uuid,
  version: Type.Integer(),
  at: Timestamp,
  availability: Type.Union([Availability, Type.Null()]),
  booking: Type.Optional(
    Type.Object(
      { quantity: Type.Integer(), totalPrice: Type.Integer() },
      { description: 'booking.confirmed and booking.cancelled' },
    ),
  ),
  price: Type.Optional(
    Type.Object(
      { price: Type.Integer(), previous: Type.Integer(), reason: Type.String() },
      { description: 'price.changed' },
    ),
  ),
  alert: Type.Optional(
    Type.Object(
      { kind: AlertKind, observed: Type.Number(), baseline: Type.Number(), detail: Type.String() },
      { description: 'analytics.alert' },
    ),
  ),
});
export type ActivityMessage = Static<typeof ActivityMessage>;

export const QueueMessage = Type.Object({
  type: Type.Literal('queue'),
  eventId: Uuid,
  position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  estimatedWaitSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  changedAt: Type.Integer({ description: 'ms since the epoch when the room changed (frame latency)' }),
});
export type QueueMessage = Static<typeof QueueMessage>;

export const AdmittedMessage = Type.Object({
  type: Type.Literal('admitted'),
  eventId: Uuid,
  token: Type.String(),
  expiresAt: Timestamp,
  changedAt: Type.Integer(),
});
export type AdmittedMessage = Static<typeof AdmittedMessage>;

/** An event's check-in figure: checked in / sold, per gate. */
export const CheckinMessage = Type.Object({ type: Type.Literal('checkin'), ...CheckinFigures.properties });
export type CheckinMessage = Static<typeof CheckinMessage>;

export type ServerMessage =
  | AvailabilityMessage
  | BookingMessage
  | WaitlistMessage
  | ErrorMessage
  | AckMessage
  | ActivityMessage
  | CheckinMessage
  | QueueMessage
  | AdmittedMessage;

/** GET /v1/admin/presence: watchers of each event summed over every live edge, most watched first. */
export const PresenceSummary = Type.Object({
  edges: Type.Integer({ description: 'Edges heard from recently, this one included' }),
  events: Type.Array(Type.Object({ eventId: Uuid, watchers: Type.Integer({ minimum: 0 }) })),
  edge: Type.Object(
    {
      id: Type.String(),
      sockets: Type.Integer({ description: 'WebSocket clients connected to this edge' }),
      skippedFrames: Type.Integer({ description: 'Availability frames not sent to slow clients since start' }),
      terminated: Type.Integer({ description: 'Clients cut off for a full buffer or a missed pong since start' }),
    },
    { description: 'This edge alone' },
  ),
});
export type PresenceSummary = Static<typeof PresenceSummary>;

export const PresenceQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
