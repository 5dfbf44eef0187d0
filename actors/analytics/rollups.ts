// Applying a run of domain events to the roll-up tables, inside the caller's
// transaction, summed per event, minute and day first. Each fact (a booking made, a booking cancelled, an offer made,
// an offer taken) is claimed once through consumed_events under a key derived
// from the fact, not from the event id: a rebuild from the tables claims the
// same keys, so an event still in flight when the rebuild read the tables is
// not counted twice when it arrives. Facts commute: a cancellation read
// before its booking (they travel on different consumers) counts the booking
// too, and the booking's own event then finds it claimed.
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Booking, DomainEvent, DomainEventType, Hold, WaitlistEntry } from '../../protocol/index.js';
import { appliedOnceEach } from '../../platform/batch-consumer.js';
import { appliedOnce } from '../../platform/shard-consumer.js';
import { minuteOf } from './anomalies.js';

export const CONSUMER = 'analytics';

/** The domain event types the roll-ups are made of; the rest of the stream is acknowledged untouched. */
export const CONSUMES = [
  'booking.confirmed',
  'booking.cancelled',
  'hold.created',
  'hold.confirmed',
  'waitlist.joined',
  'waitlist.changed',
] as const satisfies readonly DomainEventType[];

type Fact = 'booking.confirmed' | 'booking.cancelled' | 'hold.created' | 'hold.confirmed';

/** md5("<fact>:<id>") as a uuid; rebuild.ts computes the same in SQL. */
export function factKey(fact: Fact, id: string): string {
  const h = createHash('md5').update(`${fact}:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** How far along a waitlist entry is; the furthest status seen wins. */
export const WAITLIST_RANK: Record<WaitlistEntry['status'], number> = {
  waiting: 0,
  offered: 1,
  booked: 2,
  expired: 2,
  left: 2,
};

interface Totals {
  bookings: number;
  tickets: number;
  cancellations: number;
  revenue: number;
  offersMade: number;
  offersConfirmed: number;
}
const none = (): Totals => ({
  bookings: 0,
  tickets: 0,
  cancellations: 0,
  revenue: 0,
  offersMade: 0,
  offersConfirmed: 0,
});
/** One minute's or day's change: [bookings, tickets, revenue, cancellations, refunds]. */
type Series = [number, number, number, number, number];

/** One fact of the roll-ups: claimed under its key, then added to its event's totals and series. */
interface FactChange {
  key: string;
  eventId: string;
  totals: Partial<Totals>;
  /** Where the fact lands in the series (a booking's createdAt, a cancellation's cancelledAt), if it does. */
  at?: string;
  series?: Series;
}

function factsOf(event: DomainEvent): FactChange[] {
  const booked = (b: Booking): FactChange => ({
    key: factKey('booking.confirmed', b.id),
    eventId: b.eventId,
    totals: { bookings: 1, tickets: b.quantity, revenue: b.totalPrice },
    at: b.createdAt,
    series: [1, b.quantity, b.totalPrice, 0, 0],
  });
  const offered = (h: Hold): FactChange => ({
    key: factKey('hold.created', h.id),
    eventId: h.eventId,
    totals: { offersMade: 1 },
  });
  switch (event.type) {
    case 'booking.confirmed':
      return [booked(event.data)];
    case 'booking.cancelled': {
      // Both: the booking may not have been counted yet.
      const b = event.data;
      if (!b.cancelledAt) return [booked(b)];
      return [
        booked(b),
        {
          key: factKey('booking.cancelled', b.id),
          eventId: b.eventId,
          totals: { bookings: -1, tickets: -b.quantity, revenue: -b.totalPrice, cancellations: 1 },
          at: b.cancelledAt,
          series: [0, 0, 0, 1, b.totalPrice],
        },
      ];
    }
    case 'hold.created':
      return [offered(event.data)];
    case 'hold.confirmed':
      return [
        offered(event.data),
        { key: factKey('hold.confirmed', event.data.id), eventId: event.data.eventId, totals: { offersConfirmed: 1 } },
      ];
    default:
      return [];
  }
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

const add = (into: number[], from: readonly number[]) =>
  from.forEach((v, i) => {
    into[i] = (into[i] ?? 0) + v;
  });

/** The facts of a run, claimed in one statement; the ones not counted before. */
async function claimFacts(client: PoolClient, facts: readonly FactChange[]): Promise<FactChange[]> {
  const unique = [...new Map(facts.map((f) => [f.key, f])).values()];
  if (unique.length === 0) return [];
  const claimed = await appliedOnceEach(
    client,
    CONSUMER,
    unique.map((f) => f.key),
  );
  return unique.filter((f) => claimed.has(f.key));
}

/** Adds the facts to the roll-up tables: one statement per table, whatever the run's size. */
async function addUp(client: PoolClient, facts: readonly FactChange[]): Promise<void> {
  const events = new Map<string, Totals>();
  const minutes = new Map<string, { eventId: string; minute: string; s: number[] }>();
  const days = new Map<string, { eventId: string; day: string; s: number[] }>();
  for (const f of facts) {
    const t = events.get(f.eventId) ?? none();
    for (const [k, v] of Object.entries(f.totals) as [keyof Totals, number][]) t[k] += v;
    events.set(f.eventId, t);
    if (!f.at || !f.series) continue;
    const minute = new Date(minuteOf(f.at)).toISOString();
    const m = minutes.get(`${f.eventId}|${minute}`) ?? { eventId: f.eventId, minute, s: [] };
    add(m.s, f.series);
    minutes.set(`${f.eventId}|${minute}`, m);
    const day = new Date(f.at).toISOString().slice(0, 10);
    const d = days.get(`${f.eventId}|${day}`) ?? { eventId: f.eventId, day, s: [] };
    add(d.s, f.series);
    days.set(`${f.eventId}|${day}`, d);
  }
  const e = [...events.entries()];
  if (e.length > 0) {
    await client.query({
      name: 'analytics.add-events',
      text: `INSERT INTO analytics_events AS a (event_id, bookings, tickets, cancellations, revenue, offers_made, offers_confirmed, applied_at)
             SELECT *, now() FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::bigint[], $6::int[], $7::int[])
             ON CONFLICT (event_id) DO UPDATE SET bookings = a.bookings + EXCLUDED.bookings, tickets = a.tickets + EXCLUDED.tickets,
               cancellations = a.cancellations + EXCLUDED.cancellations, revenue = a.revenue + EXCLUDED.revenue,
               offers_made = a.offers_made + EXCLUDED.offers_made, offers_confirmed = a.offers_confirmed + EXCLUDED.offers_confirmed,
               applied_at = now()`,
      values: [
        e.map(([id]) => id),
        ...(['bookings', 'tickets', 'cancellations', 'revenue', 'offersMade', 'offersConfirmed'] as const).map((k) =>
          e.map(([, t]) => t[k]),
        ),
      ],
    });
  }
  const m = [...minutes.values()];
  if (m.length > 0) {
    await client.query({
      name: 'analytics.add-minutes',
      text: `INSERT INTO analytics_minutes AS m (event_id, minute, bookings, tickets, revenue, cancellations, refunds)
             SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::int[], $5::bigint[], $6::int[], $7::bigint[])
             ON CONFLICT (event_id, minute) DO UPDATE SET bookings = m.bookings + EXCLUDED.bookings, tickets = m.tickets + EXCLUDED.tickets,
               revenue = m.revenue + EXCLUDED.revenue, cancellations = m.cancellations + EXCLUDED.cancellations, refunds = m.refunds + EXCLUDED.refunds`,
      values: [
        m.map((r) => r.eventId),
        m.map((r) => r.minute),
        ...[0, 1, 2, 3, 4].map((i) => m.map((r) => r.s[i] ?? 0)),
      ],
    });
  }
  const d = [...days.values()];
  if (d.length > 0) {
    await client.query({
      name: 'analytics.add-days',
      text: `INSERT INTO analytics_days AS d (event_id, day, bookings, tickets, cancellations, revenue)
             SELECT * FROM unnest($1::uuid[], $2::date[], $3::int[], $4::int[], $5::int[], $6::bigint[])
             ON CONFLICT (event_id, day) DO UPDATE SET bookings = d.bookings + EXCLUDED.bookings, tickets = d.tickets + EXCLUDED.tickets,
               cancellations = d.cancellations + EXCLUDED.cancellations, revenue = d.revenue + EXCLUDED.revenue`,
      values: [
        d.map((r) => r.eventId),
        d.map((r) => r.day),
        d.map((r) => r.s[0] ?? 0),
        d.map((r) => r.s[1] ?? 0),
        d.map((r) => r.s[3] ?? 0),
        d.map((r) => (r.s[2] ?? 0) - (r.s[4] ?? 0)),
      ],
    });
  }
}

/**
 * Applies a run of domain events (in stream order) in the caller's
 * transaction, and returns the events the anomaly rules should judge: per
 * event and minute, the last booking and the last cancellation that counted.
 */
export async function applyEvents(client: PoolClient, events: readonly DomainEvent[]): Promise<DomainEvent[]> {
  const facts: { event: DomainEvent; fact: FactChange }[] = [];
  for (const event of events) {
    if (event.type === 'waitlist.joined' || event.type === 'waitlist.changed')
      await waitlistEntry(client, event.id, event.data);
    else for (const fact of factsOf(event)) facts.push({ event, fact });
  }
  const counted = new Set(
    (
      await claimFacts(
        client,
        facts.map((f) => f.fact),
      )
    ).map((f) => f.key),
  );
  const fresh = facts.filter((f) => counted.delete(f.fact.key));
  await addUp(
    client,
    fresh.map((f) => f.fact),
  );
  const toJudge = new Map<string, DomainEvent>();
  for (const { event, fact } of fresh) {
    if (fact.at && (event.type === 'booking.confirmed' || event.type === 'booking.cancelled')) {
      toJudge.set(`${event.type}|${event.eventId}|${minuteOf(fact.at)}`, event);
    }
  }
  return [...toJudge.values()];
}

/** Live writers share the roll-ups; a rebuild takes them whole (EXCLUSIVE) and waits for writers in flight. */
export const lockForLive = (client: PoolClient) => client.query('LOCK TABLE analytics_events IN ROW EXCLUSIVE MODE');
export const lockForRebuild = (client: PoolClient) => client.query('LOCK TABLE analytics_events IN EXCLUSIVE MODE');
