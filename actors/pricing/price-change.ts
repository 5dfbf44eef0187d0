// Writing a new price. Always under the event row lock the caller holds
// (SELECT ... FOR UPDATE), with the version check inventory's batches use,
// in one transaction with its price_history rows and price.changed events.
// Bookings read events.price under the same lock, so each is charged the
// price in force when it commits.
import type { PoolClient } from 'pg';
import { Counter } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import type { PricingStrategy } from '../../protocol/index.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { availabilityOf, type SeatCounts } from '../../platform/seat-rows.js';

const priceChanges = new Counter({
  name: 'evently_price_changes_total',
  help: 'Price changes written by the pricing actor, by direction (up, down)',
  labelNames: ['direction'] as const,
});

/** The event row as locked for a price change. */
export interface LockedPrice extends SeatCounts {
  id: string;
  currency: string;
  version: number;
  starts_at: Date;
}

export const LOCK_PRICE_SQL = `SELECT id, capacity, available, held, set_aside, price, currency, status, version, starts_at
  FROM events WHERE id = $1 FOR UPDATE`;

export interface PriceMove {
  /** The boundary (or the admin's change) it belongs to. */
  at: Date;
  price: number;
  previous: number;
  reason: string;
}

/** Thrown when the row is not as expected: the transaction rolls back, and the next sweep tries again. */
export class PriceVersionConflict extends Error {}

/** Applies moves (in order; the last one is the price in force after commit) to the locked row. */
export async function writePrice(
  client: PoolClient, shardCount: number, row: LockedPrice, moves: readonly PriceMove[], strategy: PricingStrategy, requestId: string,
): Promise<number> {
  const last = moves.at(-1);
  if (!last) return row.price;
  const { price } = last;
  const updated = await client.query<{ version: number }>({
    name: 'pricing.write-price',
    text: 'UPDATE events SET price = $3, version = version + 1, updated_at = now() WHERE id = $1 AND version = $2 RETURNING version',
    values: [row.id, row.version, price],
  });
  const [written] = updated.rows;
  if (!written) throw new PriceVersionConflict(`event ${row.id} changed under its row lock`);
  const { version } = written;
  await client.query({
    name: 'pricing.insert-history',
    text: `INSERT INTO price_history (id, event_id, at, price, previous, strategy, reason, version)
           SELECT id, $1, at, price, previous, $2, reason, $3
           FROM unnest($4::uuid[], $5::timestamptz[], $6::int[], $7::int[], $8::text[]) AS m(id, at, price, previous, reason)`,
    values: [row.id, strategy, version, moves.map(() => uuidv7()), moves.map((m) => m.at), moves.map((m) => m.price),
      moves.map((m) => m.previous), moves.map((m) => m.reason)],
  });
  await recordEvents(client, shardCount, moves.map((m) => domainEvent('price.changed',
    { eventId: row.id, version, availability: availabilityOf({ ...row, price: m.price }), requestId },
    { price: m.price, previous: m.previous, strategy, reason: m.reason })));
  return price;
}

/** Counts committed moves (after the commit, so a rolled-back change is not counted). */
export function countPriceChanges(moves: readonly PriceMove[]): void {
  for (const m of moves) priceChanges.inc({ direction: m.price > m.previous ? 'up' : 'down' });
}
