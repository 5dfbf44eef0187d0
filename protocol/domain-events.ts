// Domain events: every change to inventory and waitlists, as one durable
// JetStream stream. Subjects are `evently.domain.<shard>.<type>`, so a
// consumer can follow one shard, and the stream keeps each event's changes in
// commit order. Events travel in messages: one message carries a run of
// events of one type that one transaction wrote on one shard (a booking
// batch of a flash sale is one message, however many bookings it holds), so
// the stream, every consumer and every edge pay per transaction, not per
// booking. Every event and every message has a unique id; the message id is
// the JetStream Nats-Msg-Id: publishers may send twice, consumers apply once.
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AlertKind } from './schemas/analytics.js';
import { Booking } from './schemas/bookings.js';
import { Timestamp, Uuid } from './schemas/common.js';
import { Event } from './schemas/events.js';
import { Hold, WaitlistEntry } from './schemas/waitlist.js';
import { SUBJECT_ROOT } from './subject-root.js';

export const DOMAIN_STREAM = 'EVENTLY_DOMAIN';
const DOMAIN_ROOT = `${SUBJECT_ROOT}.domain`;

/** The seat counts of an event right after the change: capacity = confirmed + held + available. */
export const Availability = Type.Object({
  available: Type.Integer(),
  held: Type.Integer({ description: 'Seats in holds or set aside for the waitlist' }),
  capacity: Type.Integer(),
  price: Type.Integer(),
  status: Type.String(),
});
export type Availability = Static<typeof Availability>;

const SeatsReleased = Type.Object({
  quantity: Type.Integer(),
  reason: Type.Union([
    Type.Literal('booking-cancelled'),
    Type.Literal('hold-expired'),
    Type.Literal('hold-released'),
    Type.Literal('capacity-raised'),
    Type.Literal('waitlist-unclaimed'),
  ]),
  toWaitlist: Type.Integer({ description: 'Seats set aside for the waitlist rather than put on sale' }),
});

const WaitlistPositions = Type.Object({
  entries: Type.Array(Type.Object({ entryId: Uuid, userId: Uuid, position: Type.Integer() })),
});

/** Agenda's reminder job: the event starts in about `window`; the mailer reminds every confirmed booking. */
const EventReminder = Type.Object({
  window: Type.Union([Type.Literal('24h'), Type.Literal('1h')]),
  startsAt: Timestamp,
});

/** The pricing actor moved the event's price (in cents); availability.price is the new price. */
const PriceChanged = Type.Object({
  price: Type.Integer({ minimum: 0 }),
  previous: Type.Integer({ minimum: 0 }),
  strategy: Type.Union([Type.Literal('fixed'), Type.Literal('dynamic')]),
  reason: Type.String(),
});

/** The analytics actor saw a sale leave its own recent baseline. */
const AnalyticsAlert = Type.Object({
  kind: AlertKind,
  observed: Type.Number(),
  baseline: Type.Number(),
  detail: Type.String(),
});

/** Each domain event type and the shape of its `data`. */
export const domainEventTypes = {
  'event.created': Event,
  'event.updated': Event,
  'event.cancelled': Event,
  'booking.confirmed': Booking,
  'booking.cancelled': Booking,
  'seats.released': SeatsReleased,
  'hold.created': Hold,
  'hold.expired': Hold,
  'hold.released': Hold,
  'hold.confirmed': Hold,
  'waitlist.joined': WaitlistEntry,
  'waitlist.changed': WaitlistEntry,
  'waitlist.positions': WaitlistPositions,
  'event.reminder': EventReminder,
  'price.changed': PriceChanged,
  'analytics.alert': AnalyticsAlert,
} as const satisfies Record<string, TSchema>;

export type DomainEventType = keyof typeof domainEventTypes;
export const DOMAIN_EVENT_TYPES = Object.keys(domainEventTypes) as DomainEventType[];

export interface DomainEventOf<T extends DomainEventType> {
  /** Unique id (UUIDv7); consumers dedupe on it. */
  id: string;
  type: T;
  eventId: string;
  /** The event row's version after the change. */
  version: number;
  occurredAt: string;
  requestId: string;
  availability: Availability | null;
  data: Static<(typeof domainEventTypes)[T]>;
}
export type DomainEvent = { [T in DomainEventType]: DomainEventOf<T> }[DomainEventType];

/** The envelope schema, for consumers that validate what they read. */
export const DomainEventEnvelope = Type.Object({
  id: Uuid,
  type: Type.Union(DOMAIN_EVENT_TYPES.map((t) => Type.Literal(t))),
  eventId: Uuid,
  version: Type.Integer(),
  occurredAt: Timestamp,
  requestId: Type.String(),
  availability: Type.Union([Availability, Type.Null()]),
  data: Type.Unknown(),
});

/** What one JetStream message of the domain stream carries: events of one type, in commit order. */
export const DomainMessageEnvelope = Type.Object({
  id: Uuid,
  events: Type.Array(DomainEventEnvelope, { minItems: 1 }),
});
export interface DomainMessage {
  /** Unique id (UUIDv7): the Nats-Msg-Id, and what batch consumers dedupe on. */
  id: string;
  events: DomainEvent[];
}

const validMessage = Compile(DomainMessageEnvelope);
const validEvent = Compile(DomainEventEnvelope);

/**
 * The message a stream payload holds, or undefined when it is not one. A bare
 * event (the form before messages carried several) reads as a message of one,
 * with the event's id as the message id, so its dedupe records still match.
 */
export function readDomainMessage(payload: unknown): DomainMessage | undefined {
  if (validMessage.Check(payload)) return payload as DomainMessage;
  if (validEvent.Check(payload)) return { id: (payload as DomainEvent).id, events: [payload as DomainEvent] };
  return undefined;
}

export const domainSubject = (type: DomainEventType, shard: number): string => `${DOMAIN_ROOT}.${shard}.${type}`;
/** Every domain event of one shard (a consumer's filter). */
export const domainShardFilter = (shard: number): string => `${DOMAIN_ROOT}.${shard}.>`;
/** Every domain event (the stream's subjects, and each edge's live fan-out). */
export const DOMAIN_ALL = `${DOMAIN_ROOT}.>`;

/** Presence: each edge announces how many of its clients watch each event. */
export const presenceSubject = (edgeId: string): string => `${SUBJECT_ROOT}.presence.${edgeId}`;
export const PRESENCE_ALL = `${SUBJECT_ROOT}.presence.*`;
export const PresenceReport = Type.Object({
  edgeId: Type.String(),
  watchers: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  at: Type.Integer(),
});
export type PresenceReport = Static<typeof PresenceReport>;
