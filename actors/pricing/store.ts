// The demand history in Postgres: what applyEvent (demand.ts) does in
// memory, done to the pricing_* tables, in the transaction that marks a run
// of domain messages applied. A restart loads it back.
import type { PoolClient } from 'pg';
import type { DomainEvent } from '../../protocol/index.js';
import { saleSecond, type History } from './demand.js';

/**
 * Records what a run of domain events says about demand, in the transaction
 * that marks them applied. Bookings and cancellations are summed per event
 * and second first: a flash sale's thousands of bookings in a run are a
 * statement or two, not one each.
 */
export async function recordDemand(client: PoolClient, events: readonly DomainEvent[]): Promise<void> {
  const sales = new Map<string, { eventId: string; second: number; tickets: number }>();
  for (const e of events) {
    if (e.type !== 'booking.confirmed' && e.type !== 'booking.cancelled') {
      await recordFact(client, e);
      continue;
    }
    const second = saleSecond(e.occurredAt);
    const key = `${e.eventId}|${second}`;
    const sale = sales.get(key) ?? { eventId: e.eventId, second, tickets: 0 };
    sale.tickets += e.type === 'booking.confirmed' ? e.data.quantity : -e.data.quantity;
    sales.set(key, sale);
  }
  for (const { eventId, second, tickets } of sales.values())
    await recordSale(client, eventId, new Date(second), tickets);
}

async function recordSale(client: PoolClient, eventId: string, second: Date, tickets: number): Promise<void> {
  // A second already folded away counts towards sold_before, as in applyEvent.
  const folded = await client.query({
    name: 'pricing.record-late-sale',
    text: 'UPDATE pricing_events SET sold_before = sold_before + $2 WHERE event_id = $1 AND folded_until >= $3',
    values: [eventId, tickets, second],
  });
  if (folded.rowCount === 0) {
    await client.query({
      name: 'pricing.record-sale',
      text: `INSERT INTO pricing_sales (event_id, second, tickets) VALUES ($1, $2, $3)
             ON CONFLICT (event_id, second) DO UPDATE SET tickets = pricing_sales.tickets + EXCLUDED.tickets`,
      values: [eventId, second, tickets],
    });
  }
}

async function recordFact(client: PoolClient, e: DomainEvent): Promise<void> {
  switch (e.type) {
    case 'event.created':
    case 'event.updated':
    case 'event.cancelled':
      // LEAST ignores NULL: the earliest cancellation stays, whichever arrives first.
      await client.query({
        name: 'pricing.record-event',
        text: `INSERT INTO pricing_events (event_id, capacity, starts_at, version, cancelled_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (event_id) DO UPDATE SET
                 capacity = CASE WHEN EXCLUDED.version > pricing_events.version THEN EXCLUDED.capacity ELSE pricing_events.capacity END,
                 starts_at = CASE WHEN EXCLUDED.version > pricing_events.version THEN EXCLUDED.starts_at ELSE pricing_events.starts_at END,
                 version = GREATEST(pricing_events.version, EXCLUDED.version),
                 cancelled_at = LEAST(pricing_events.cancelled_at, EXCLUDED.cancelled_at)`,
        values: [
          e.eventId,
          e.data.capacity,
          e.data.startsAt,
          e.version,
          e.type === 'event.cancelled' ? e.occurredAt : null,
        ],
      });
      return;
    case 'waitlist.joined':
    case 'waitlist.changed':
      await client.query({
        name: 'pricing.record-waiting',
        text: `INSERT INTO pricing_waitlist (entry_id, event_id, quantity, joined_at, left_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (entry_id) DO UPDATE SET left_at = LEAST(pricing_waitlist.left_at, EXCLUDED.left_at)`,
        values: [
          e.data.id,
          e.eventId,
          e.data.quantity,
          e.data.joinedAt,
          e.data.status === 'waiting' ? null : e.occurredAt,
        ],
      });
      return;
    default:
    // Other domain events say nothing about demand.
  }
}

// pg reads '-infinity' (nothing folded yet) as the number -Infinity, any other time as a Date.
interface FactsRow {
  capacity: number;
  starts_at: Date;
  cancelled_at: Date | null;
  version: number;
  sold_before: number;
  folded_until: Date | number;
}

/** The history a boundary after `from` can see: waitlist entries that left before it cannot count. */
export async function loadHistory(client: PoolClient, eventId: string, from: Date): Promise<History> {
  const facts = await client.query<FactsRow>(
    'SELECT capacity, starts_at, cancelled_at, version, sold_before, folded_until FROM pricing_events WHERE event_id = $1',
    [eventId],
  );
  const sales = await client.query<{ second: Date; tickets: number }>(
    'SELECT second, tickets FROM pricing_sales WHERE event_id = $1',
    [eventId],
  );
  const waiting = await client.query<{ entry_id: string; quantity: number; joined_at: Date; left_at: Date | null }>(
    'SELECT entry_id, quantity, joined_at, left_at FROM pricing_waitlist WHERE event_id = $1 AND (left_at IS NULL OR left_at > $2)',
    [eventId, from],
  );
  const f = facts.rows[0];
  return {
    event: f
      ? {
          capacity: f.capacity,
          startsAt: f.starts_at.getTime(),
          cancelledAt: f.cancelled_at?.getTime() ?? null,
          version: f.version,
        }
      : null,
    soldBefore: f?.sold_before ?? 0,
    foldedUntil: f ? Number(f.folded_until) : -Infinity,
    sales: new Map(sales.rows.map((r) => [r.second.getTime(), r.tickets])),
    waitlist: new Map(
      waiting.rows.map((r) => [
        r.entry_id,
        { quantity: r.quantity, joinedAt: r.joined_at.getTime(), leftAt: r.left_at?.getTime() ?? null },
      ]),
    ),
  };
}

/**
 * Sums the seconds no later boundary's window reaches into sold_before, so
 * a long sale keeps a bounded number of rows. Boundaries only move forward.
 */
export async function foldSales(client: PoolClient, eventId: string, until: Date): Promise<void> {
  await client.query(
    `WITH gone AS (DELETE FROM pricing_sales WHERE event_id = $1 AND second <= $2 RETURNING tickets)
     UPDATE pricing_events SET sold_before = sold_before + (SELECT coalesce(sum(tickets), 0) FROM gone),
       folded_until = GREATEST(folded_until, $2)
     WHERE event_id = $1`,
    [eventId, until],
  );
}
