// Writing a new price. Always under the event row lock the caller holds
// (lockEvent), through the event row's owner like every other write,
// in one transaction with its price_history rows and price.changed events.
// Bookings read events.price under the same lock, so each is charged the
// price in force when it commits.
import type { PoolClient } from 'pg';
import { Counter } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import type { PricingStrategy } from '../../protocol/index.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { availabilityOf, changeOf, writeEvent, type EventRow } from '../../platform/event-row.js';

const priceChanges = new Counter({
  name: 'evently_price_changes_total',
  help: 'Price changes written by the pricing actor, by direction (up, down)',
  labelNames: ['direction'] as const,
});

export interface PriceMove {
  /** The boundary (or the admin's change) it belongs to. */
  at: Date;
  price: number;
  previous: number;
  reason: string;
}

/** Applies moves (in order; the last one is the price in force after commit) to the locked row. */
export async function writePrice(
  client: PoolClient,
  shardCount: number,
  row: EventRow,
  moves: readonly PriceMove[],
  strategy: PricingStrategy,
  requestId: string,
): Promise<number> {
  const finalMove = moves.at(-1);
  if (!finalMove) return row.price;
  const price = finalMove.price;
  const after = await writeEvent(client, row, { set: { price } });
  const version = after.version;
  await client.query({
    name: 'pricing.insert-history',
    text: `INSERT INTO price_history (id, event_id, at, price, previous, strategy, reason, version)
           SELECT id, $1, at, price, previous, $2, reason, $3
           FROM unnest($4::uuid[], $5::timestamptz[], $6::int[], $7::int[], $8::text[]) AS m(id, at, price, previous, reason)`,
    values: [
      row.id,
      strategy,
      version,
      moves.map(() => uuidv7()),
      moves.map((m) => m.at),
      moves.map((m) => m.price),
      moves.map((m) => m.previous),
      moves.map((m) => m.reason),
    ],
  });
  const change = changeOf(after, requestId);
  await recordEvents(
    client,
    shardCount,
    moves.map((m) =>
      domainEvent(
        'price.changed',
        { ...change, availability: availabilityOf({ ...after, price: m.price }) },
        { price: m.price, previous: m.previous, strategy, reason: m.reason },
      ),
    ),
  );
  return price;
}

/** Counts committed moves (after the commit, so a rolled-back change is not counted). */
export function countPriceChanges(moves: readonly PriceMove[]): void {
  for (const m of moves) priceChanges.inc({ direction: m.price > m.previous ? 'up' : 'down' });
}
