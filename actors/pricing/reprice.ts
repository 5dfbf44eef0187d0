// The clock of dynamic pricing. Boundaries are whole multiples of a
// policy's interval since the epoch. Boundary B is evaluated once, when the
// domain events of its shard that occurred by B have been applied (the
// watermark, watermark.ts) and at least the settle time after B, with
// `at` = B, whether or not anything happened: an idle sale is weighed too.
// Boundaries missed while no thread ran are evaluated in order on the next
// sweep, so a restart gives the prices an uninterrupted run would have.
import type { Pool } from 'pg';
import { inTransaction } from '../../platform/resources.js';
import { boundariesDue, evaluate } from './demand.js';
import { lockEvent, VersionConflict } from '../../platform/event-row.js';
import { writePrice, type PriceMove } from './price-change.js';
import { policyOf } from './model.js';
import { readPolicy } from '../../platform/pricing-policy.js';
import { foldSales, loadHistory } from './store.js';

/** Most boundaries one transaction catches up on; the next sweep takes the rest. */
const MAX_CATCH_UP = 1000;

/** Dynamic policies of open sales with a boundary due by `until`, and each one's next boundary (epoch ms). */
export async function dueEvents(pool: Pool, until: Date): Promise<{ eventId: string; next: number }[]> {
  const { rows } = await pool.query<{ event_id: string; next: Date }>({
    name: 'pricing.due',
    text: `SELECT p.event_id, p.last_tick + make_interval(secs => p.interval_s) AS next
           FROM event_pricing p JOIN pricing_events e USING (event_id)
           WHERE p.strategy = 'dynamic' AND e.cancelled_at IS NULL AND p.last_tick < e.starts_at
             AND p.last_tick + make_interval(secs => p.interval_s) <= $1
           ORDER BY p.last_tick`,
    values: [until],
  });
  return rows.map((r) => ({ eventId: r.event_id, next: r.next.getTime() }));
}

/**
 * Evaluates the boundaries of one event due by `until`; returns the price moves it committed.
 * Locks: the policy row first (as setPolicy does), the event row only to write a new price, so
 * a boundary that changes nothing never waits for, or holds up, a sale on the event row.
 */
export async function reprice(pool: Pool, shardCount: number, eventId: string, until: number): Promise<PriceMove[]> {
  return inTransaction(pool, async (client) => {
    const policy = await readPolicy(client, eventId, true);
    if (policy?.strategy !== 'dynamic') return [];
    const boundaries = boundariesDue(policy.last_tick.getTime(), policy.interval_s, until, MAX_CATCH_UP);
    const {
      rows: [weighed],
    } = await client.query<{ price: number; status: string }>('SELECT price, status FROM events WHERE id = $1', [
      eventId,
    ]);
    const [firstBoundary] = boundaries;
    if (firstBoundary === undefined || weighed?.status !== 'scheduled') return [];
    const history = await loadHistory(client, eventId, new Date(firstBoundary));
    // No steps: the event's own facts have not arrived yet; these boundaries wait for them.
    const steps = evaluate(policyOf(policy), history, boundaries, weighed.price);
    const last = steps.at(-1);
    if (!last) return [];
    const moves = steps.filter((s) => s.price !== s.previous).map((s) => ({ ...s, at: new Date(s.at) }));
    if (moves.length > 0) {
      const row = await lockEvent(client, eventId);
      // Only pricing moves a dynamic price, under the policy lock this transaction holds.
      if (row?.price !== weighed.price) throw new VersionConflict(eventId, 'moved its price while it was weighed');
      await writePrice(client, shardCount, row, moves, 'dynamic', `pricing-${eventId}`);
    }
    await client.query('UPDATE event_pricing SET last_tick = $2, last_reason = $3 WHERE event_id = $1', [
      eventId,
      new Date(last.at),
      last.reason,
    ]);
    await foldSales(client, eventId, new Date(last.at - policy.long_window_s * 1000));
    return moves;
  });
}
