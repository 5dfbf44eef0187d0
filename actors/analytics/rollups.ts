// Applying one domain event to the roll-up tables, inside the caller's
// transaction. Each fact (a booking made, a booking cancelled, an offer made,
// an offer taken) is claimed once through consumed_events under a key derived
// from the fact, not from the event id: a rebuild from the tables claims the
// same keys, so an event still in flight when the rebuild read the tables is
// not counted twice when it arrives. Facts commute: a cancellation read
// before its booking (they travel on different consumers) counts the booking
// too, and the booking's own event then finds it claimed.
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Booking, DomainEvent, DomainEventType, Hold, WaitlistEntry } from '../protocol/index.js';
import { appliedOnce } from '../runtime/shard-consumer.js';
import { minuteOf } from './anomalies.js';

export const CONSUMER = 'analytics';

/** The domain event types the roll-ups are made of; the rest of the stream is acknowledged untouched. */
export const CONSUMES = [
  'booking.confirmed', 'booking.cancelled', 'hold.created', 'hold.confirmed', 'waitlist.joined', 'waitlist.changed',
] as const satisfies readonly DomainEventType[];

type Fact = 'booking.confirmed' | 'booking.cancelled' | 'hold.created' | 'hold.confirmed';

/** md5("<fact>:<id>") as a uuid; rebuild.ts computes the same in SQL. */
export function factKey(fact: Fact, id: string): string {
  const h = createHash('md5').update(`${fact}:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** How far along a waitlist entry is; the furthest status seen wins. */
export const WAITLIST_RANK: Record<WaitlistEntry['status'], number> = { waiting: 0, offered: 1, booked: 2, expired: 2, left: 2 };

interface Totals { bookings: number; tickets: number; cancellations: number; revenue: number; offersMade: number; offersConfirmed: number }
const none: Totals = { bookings: 0, tickets: 0, cancellations: 0, revenue: 0, offersMade: 0, offersConfirmed: 0 };

async function addToEvent(client: PoolClient, eventId: string, d: Partial<Totals>): Promise<void> {
  const t = { ...none, ...d };
  await client.query({
    name: 'analytics.add-event',
    text: `INSERT INTO analytics_events AS a (event_id, bookings, tickets, cancellations, revenue, offers_made, offers_confirmed, applied_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, now())
           ON CONFLICT (event_id) DO UPDATE SET bookings = a.bookings + EXCLUDED.bookings, tickets = a.tickets + EXCLUDED.tickets,
             cancellations = a.cancellations + EXCLUDED.cancellations, revenue = a.revenue + EXCLUDED.revenue,
             offers_made = a.offers_made + EXCLUDED.offers_made, offers_confirmed = a.offers_confirmed + EXCLUDED.offers_confirmed,
             applied_at = now()`,
    values: [eventId, t.bookings, t.tickets, t.cancellations, t.revenue, t.offersMade, t.offersConfirmed],
  });
}

/** Adds to the event's minute and UTC day of `at`: [bookings, tickets, revenue, cancellations, refunds]. */
async function addToSeries(client: PoolClient, eventId: string, at: string, [bookings, tickets, revenue, cancellations, refunds]: number[]): Promise<void> {
  await client.query({
    name: 'analytics.add-minute',
    text: `INSERT INTO analytics_minutes AS m (event_id, minute, bookings, tickets, revenue, cancellations, refunds) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (event_id, minute) DO UPDATE SET bookings = m.bookings + EXCLUDED.bookings, tickets = m.tickets + EXCLUDED.tickets,
             revenue = m.revenue + EXCLUDED.revenue, cancellations = m.cancellations + EXCLUDED.cancellations, refunds = m.refunds + EXCLUDED.refunds`,
    values: [eventId, new Date(minuteOf(at)).toISOString(), bookings, tickets, revenue, cancellations, refunds],
  });
  await client.query({
    name: 'analytics.add-day',
    text: `INSERT INTO analytics_days AS d (event_id, day, bookings, tickets, cancellations, revenue) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (event_id, day) DO UPDATE SET bookings = d.bookings + EXCLUDED.bookings, tickets = d.tickets + EXCLUDED.tickets,
             cancellations = d.cancellations + EXCLUDED.cancellations, revenue = d.revenue + EXCLUDED.revenue`,
    values: [eventId, new Date(at).toISOString().slice(0, 10), bookings, tickets, cancellations, revenue - refunds],
  });
}

async function booked(client: PoolClient, b: Booking): Promise<boolean> {
  if (!(await appliedOnce(client, CONSUMER, factKey('booking.confirmed', b.id)))) return false;
  await addToEvent(client, b.eventId, { bookings: 1, tickets: b.quantity, revenue: b.totalPrice });
  await addToSeries(client, b.eventId, b.createdAt, [1, b.quantity, b.totalPrice, 0, 0]);
  return true;
}

async function cancelled(client: PoolClient, b: Booking): Promise<boolean> {
  if (!b.cancelledAt || !(await appliedOnce(client, CONSUMER, factKey('booking.cancelled', b.id)))) return false;
  await addToEvent(client, b.eventId, { bookings: -1, tickets: -b.quantity, revenue: -b.totalPrice, cancellations: 1 });
  await addToSeries(client, b.eventId, b.cancelledAt, [0, 0, 0, 1, b.totalPrice]);
  return true;
}

async function offered(client: PoolClient, h: Hold): Promise<boolean> {
  if (!(await appliedOnce(client, CONSUMER, factKey('hold.created', h.id)))) return false;
  await addToEvent(client, h.eventId, { offersMade: 1 });
  return true;
}

async function offerTaken(client: PoolClient, h: Hold): Promise<boolean> {
  if (!(await appliedOnce(client, CONSUMER, factKey('hold.confirmed', h.id)))) return false;
  await addToEvent(client, h.eventId, { offersConfirmed: 1 });
  return true;
}

/** Entries are idempotent by nature (the furthest status wins); the event id is claimed only to skip redeliveries early. */
async function waitlistEntry(client: PoolClient, domainEventId: string, e: WaitlistEntry): Promise<boolean> {
  if (!(await appliedOnce(client, CONSUMER, domainEventId))) return false;
  await client.query({
    name: 'analytics.waitlist-entry',
    text: `INSERT INTO analytics_waitlist AS w (entry_id, event_id, status, rank) VALUES ($1, $2, $3, $4)
           ON CONFLICT (entry_id) DO UPDATE SET status = EXCLUDED.status, rank = EXCLUDED.rank WHERE EXCLUDED.rank > w.rank`,
    values: [e.id, e.eventId, e.status, WAITLIST_RANK[e.status]],
  });
  return true;
}

/** Applies the event; false if every fact in it was applied before (a redelivery, or counted by a rebuild). */
export async function applyEvent(client: PoolClient, event: DomainEvent): Promise<boolean> {
  switch (event.type) {
    case 'booking.confirmed':
      return booked(client, event.data);
    case 'booking.cancelled':
      // Both run: the booking may not have been counted yet.
      return [await booked(client, event.data), await cancelled(client, event.data)][1];
    case 'hold.created':
      return offered(client, event.data);
    case 'hold.confirmed':
      return [await offered(client, event.data), await offerTaken(client, event.data)][1];
    case 'waitlist.joined':
    case 'waitlist.changed':
      return waitlistEntry(client, event.id, event.data);
    default:
      return false;
  }
}

/** Live writers share the roll-ups; a rebuild takes them whole (EXCLUSIVE) and waits for writers in flight. */
export const lockForLive = (client: PoolClient) => client.query('LOCK TABLE analytics_events IN ROW EXCLUSIVE MODE');
export const lockForRebuild = (client: PoolClient) => client.query('LOCK TABLE analytics_events IN EXCLUSIVE MODE');
