// The waiting room's contract (docs/api.md "Waiting room"): the admin's settings,
// the user's queue ticket, and what the actor tells the edges over core NATS
// (which events have a room on; per room, what changed at each admission tick).
import { Type, type Static } from 'typebox';
import { Timestamp, Uuid } from './common.js';

export const RoomBody = Type.Object(
  {
    opensAt: Timestamp,
    admitPerMinute: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: "Absent = adapt to what the event's booking path completes",
      }),
    ),
    admissionTtlSeconds: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 86_400,
        description: 'How long an admission lets its holder book (default EVENTLY_WAITROOM_ADMISSION_TTL_SECONDS)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RoomBody = Static<typeof RoomBody>;

export const SetRoom = Type.Object({ eventId: Uuid, ...RoomBody.properties }, { additionalProperties: false });
export type SetRoom = Static<typeof SetRoom>;

export const Room = Type.Object({
  enabled: Type.Literal(true),
  opensAt: Timestamp,
  admitPerMinute: Type.Union([Type.Integer(), Type.Null()]),
  admissionTtlSeconds: Type.Integer(),
});
export type Room = Static<typeof Room>;

/** Admin view: settings, counts, and the audit trail of the pre-queue draw. */
export const RoomState = Type.Object({
  ...Room.properties,
  eventId: Uuid,
  waiting: Type.Integer({ minimum: 0 }),
  admitted: Type.Integer({ minimum: 0, description: 'Admissions not yet expired' }),
  expired: Type.Integer({ minimum: 0 }),
  left: Type.Integer({ minimum: 0 }),
  measuredAdmitPerMinute: Type.Number({ description: 'Admissions over the last 30 s, per minute' }),
  shuffle: Type.Union([Type.Object({ seed: Type.String(), at: Timestamp, count: Type.Integer() }), Type.Null()], {
    description: 'Null until opensAt',
  }),
});
export type RoomState = Static<typeof RoomState>;

export const RoomList = Type.Object({ items: Type.Array(RoomState) });
export type RoomList = Static<typeof RoomList>;

export const Admission = Type.Object({ token: Type.String(), expiresAt: Timestamp });
export type Admission = Static<typeof Admission>;

export const QueueState = Type.Union([
  Type.Literal('waiting'),
  Type.Literal('admitted'),
  Type.Literal('expired'),
  Type.Literal('left'),
]);

export const QueueTicket = Type.Object({
  id: Uuid,
  eventId: Uuid,
  state: QueueState,
  position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: '1 = next; null once admitted, and in the pre-queue until the draw at opensAt',
  }),
  estimatedWaitSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Position over the measured admission rate; null while nothing is measured yet',
  }),
  pollAfterSeconds: Type.Union([Type.Integer({ minimum: 1, maximum: 60 }), Type.Null()], {
    description:
      'Ask for this ticket again after this many seconds (also sent as Retry-After): about a fifth of the ' +
      'estimated wait (1-60 s), in the pre-queue once after the draw at opensAt, spread so a crowd does not ' +
      'come back at once; ' +
      'null when there is nothing more to wait for (admitted, expired, left)',
  }),
  joinedAt: Timestamp,
  admittedAt: Type.Union([Timestamp, Type.Null()]),
  admission: Type.Union([Admission, Type.Null()]),
});
export type QueueTicket = Static<typeof QueueTicket>;

/** Edge → actor: where some users of one event stand (a WebSocket subscription or a resync). */
export const PositionsQuery = Type.Object(
  { eventId: Uuid, userIds: Type.Array(Uuid, { minItems: 1, maxItems: 2000 }) },
  { additionalProperties: false },
);
export type PositionsQuery = Static<typeof PositionsQuery>;

export const UserPosition = Type.Object({
  userId: Uuid,
  /** Internal order key: a live edge counts removals ahead of it between resyncs. */
  rank: Type.Union([Type.Integer(), Type.Null()]),
  ticket: Type.Union([QueueTicket, Type.Null()]),
});
export const Positions = Type.Object({
  items: Type.Array(UserPosition),
  ratePerSecond: Type.Number(),
  /** The room's tick series when the read began: changes up to `seq` of `epoch` are already in these places. */
  epoch: Type.String(),
  seq: Type.Integer(),
});
export type Positions = Static<typeof Positions>;

export const RoomIds = Type.Object({ eventIds: Type.Array(Uuid) });
export type RoomIds = Static<typeof RoomIds>;

/** Core NATS, actor → every edge: a room went on or off. */
export const ROOMS_SUBJECT = 'evently.waitroom-rooms';
export const RoomChange = Type.Object({ eventId: Uuid, enabled: Type.Boolean() });
export type RoomChange = Static<typeof RoomChange>;

/**
 * Core NATS, edge → the waiting-room actors, once a second per event with a room that had bookings
 * through this edge: how long the edge took to answer them (admission passed, so the booking path's
 * own time). The adaptive pace admits nobody more while it is above its target.
 */
export const bookingPaceSubject = (eventId: string): string => `evently.waitroom-pace.${eventId}`;
export const BOOKING_PACE_SUBJECTS = 'evently.waitroom-pace.*';
export const BookingPace = Type.Object(
  {
    eventId: Uuid,
    edge: Type.String({ minLength: 1, maxLength: 100, description: 'The reporting edge' }),
    count: Type.Integer({ minimum: 1, description: 'Bookings answered in the second' }),
    p90Ms: Type.Number({ minimum: 0, maximum: 3_600_000 }),
  },
  { additionalProperties: false },
);
export type BookingPace = Static<typeof BookingPace>;

/** Core NATS, actor → every edge, once per admission tick that changed the room. */
export const queueSubject = (eventId: string): string => `evently.waitroom-live.${eventId}`;
export const QUEUE_SUBJECTS = 'evently.waitroom-live.*';
export const QueueChange = Type.Object({
  eventId: Uuid,
  /** Consecutive per room and thread (one message every tick); a gap or `reset` makes an edge ask for positions again. */
  seq: Type.Integer(),
  epoch: Type.String({ description: "The publishing thread's run; a new one means a new seq series" }),
  reset: Type.Boolean({ description: 'Ranks were redrawn (the shuffle) or rebuilt' }),
  /** Ranks that left the waiting line this tick (admitted or gave up), ascending. */
  removed: Type.Array(Type.Integer()),
  /** Who this tick admitted, with what a poll of them answers (admittedAt as stored, the admission). */
  admitted: Type.Array(
    Type.Object({ userId: Uuid, token: Type.String(), expiresAt: Timestamp, admittedAt: Timestamp }),
  ),
  spreadMs: Type.Integer({
    minimum: 0,
    maximum: 60_000,
    description:
      'The admitted are told over this many ms (the tick), evenly, in their order: their bookings arrive as a steady flow, not one burst a tick',
  }),
  ratePerSecond: Type.Number(),
  at: Type.Integer({ description: 'ms since the epoch when the tick published it' }),
});
export type QueueChange = Static<typeof QueueChange>;
