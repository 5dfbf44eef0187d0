// The WebSocket `/ws` protocol (API.md): what a client may send and what the
// edge sends back. Declared here so clients, tests and the edge share it.
import { Type, type Static } from 'typebox';
import { Booking } from './bookings.js';
import { Uuid } from './common.js';
import { WaitlistEntry } from './waitlist.js';

const EventIds = Type.Array(Uuid, { minItems: 1, maxItems: 100 });

export const ClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('subscribe'), eventIds: EventIds }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('unsubscribe'), eventIds: EventIds }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }),
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
export const WaitlistMessage = Type.Object({ type: Type.Literal('waitlist'), entry: Type.Union([WaitlistEntry, WaitlistPositionChange]) });
export type WaitlistMessage = Static<typeof WaitlistMessage>;

export const ErrorMessage = Type.Object({ type: Type.Literal('error'), code: Type.String(), detail: Type.String() });
export type ErrorMessage = Static<typeof ErrorMessage>;

/** Acknowledges subscribe/unsubscribe/auth so a client knows when it is in effect. */
export const AckMessage = Type.Object({ type: Type.Literal('ack'), of: Type.String(), eventIds: Type.Optional(Type.Array(Uuid)), userId: Type.Optional(Uuid) });
export type AckMessage = Static<typeof AckMessage>;

export type ServerMessage = AvailabilityMessage | BookingMessage | WaitlistMessage | ErrorMessage | AckMessage;

/** GET /v1/admin/presence: watchers of each event summed over every live edge, most watched first. */
export const PresenceSummary = Type.Object({
  edges: Type.Integer({ description: 'Edges heard from recently, this one included' }),
  events: Type.Array(Type.Object({ eventId: Uuid, watchers: Type.Integer({ minimum: 0 }) })),
  edge: Type.Object({
    id: Type.String(),
    sockets: Type.Integer({ description: 'WebSocket clients connected to this edge' }),
    skippedFrames: Type.Integer({ description: 'Availability frames not sent to slow clients since start' }),
    terminated: Type.Integer({ description: 'Clients cut off for a full buffer or a missed pong since start' }),
  }, { description: 'This edge alone' }),
});
export type PresenceSummary = Static<typeof PresenceSummary>;

export const PresenceQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
}, { additionalProperties: false });
