// The timed work of a room, in SQL: the pre-queue draw at opensAt, expiring
// admissions whose time ran out, admitting the next people in rank order,
// and reading what the adaptive pace needs. The thread owning the room's
// shard runs these one after another, once per tick.
import type pg from 'pg';
import { expectRow } from '../../platform/expect-row.js';
import { inTransaction } from '../../platform/resources.js';
import { digestOf, seededShuffle } from './shuffle.js';
import type { TicketRow } from './tickets.js';

export interface Draw {
  seed: string;
  count: number;
  inputDigest: string;
  outputDigest: string;
}

/**
 * Puts the pre-queue in the seeded random order, ahead of everyone who joined
 * after opensAt (ranks -n..-1; later joiners have positive ranks). The input
 * order is (joined_at, id), which the draw does not change, so seed + input
 * replay it. undefined = already drawn.
 */
export async function drawPrequeue(pool: pg.Pool, eventId: string, seed: string): Promise<Draw | undefined> {
  return inTransaction(pool, async (client) => {
    const {
      rows: [room],
    } = await client.query<{ shuffled_at: Date | null }>(
      'SELECT shuffled_at FROM waitroom_rooms WHERE event_id = $1 FOR UPDATE',
      [eventId],
    );
    if (!room || room.shuffled_at) return undefined;
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM waitroom_tickets WHERE event_id = $1 AND prequeue AND state = 'waiting' ORDER BY joined_at, id`,
      [eventId],
    );
    const input = rows.map((r) => r.id);
    const drawn = seededShuffle(input, seed);
    await client.query(
      `UPDATE waitroom_tickets t SET rank = d.rank FROM unnest($2::uuid[], $3::bigint[]) AS d(id, rank) WHERE t.id = d.id AND t.event_id = $1`,
      [eventId, drawn, drawn.map((_, i) => i - drawn.length)],
    );
    await client.query(
      'UPDATE waitroom_rooms SET shuffle_seed = $2, shuffled_at = now(), shuffled_count = $3 WHERE event_id = $1',
      [eventId, seed, drawn.length],
    );
    return { seed, count: drawn.length, inputDigest: digestOf(input), outputDigest: digestOf(drawn) };
  });
}

/** Admissions past their time end as `expired`: their holders must queue again, their slot is free. */
export async function expireDue(pool: pg.Pool, eventId: string): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE waitroom_tickets SET state = 'expired', ended_at = now()
     WHERE event_id = $1 AND state = 'admitted' AND admission_expires_at <= now()`,
    [eventId],
  );
  return rowCount ?? 0;
}

/** Admits the next `n` waiting tickets by rank. */
export async function admitNext(pool: pg.Pool, eventId: string, n: number, ttlSeconds: number): Promise<TicketRow[]> {
  if (n <= 0) return [];
  const { rows } = await pool.query<TicketRow>(
    `UPDATE waitroom_tickets SET state = 'admitted', admitted_at = now(), admission_expires_at = now() + make_interval(secs => $3)
     WHERE id IN (SELECT id FROM waitroom_tickets WHERE event_id = $1 AND state = 'waiting' ORDER BY rank LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [eventId, n, ttlSeconds],
  );
  return rows.sort((a, b) => Number(a.rank) - Number(b.rank));
}

export interface Demand {
  /** Seats still on sale. */
  available: number;
  /** Bookings of the event confirmed in the last `windowSeconds`. */
  recentBookings: number;
  /** Admitted in the last `shoppingSeconds`, admission still valid, and no confirmed ticket yet. */
  shopping: number;
}

export async function demandOf(
  pool: pg.Pool,
  eventId: string,
  windowSeconds: number,
  shoppingSeconds: number,
): Promise<Demand> {
  const { rows } = await pool.query<Demand>(
    `SELECT coalesce((SELECT available FROM events WHERE id = $1), 0) AS available,
       (SELECT count(*) FROM bookings WHERE event_id = $1 AND status = 'confirmed' AND created_at > now() - make_interval(secs => $2))::int AS "recentBookings",
       (SELECT count(*) FROM waitroom_tickets t WHERE t.event_id = $1 AND t.state = 'admitted' AND t.admission_expires_at > now()
          AND t.admitted_at > now() - make_interval(secs => $3)
          AND NOT EXISTS (SELECT 1 FROM event_user_tickets u WHERE u.event_id = t.event_id AND u.user_id = t.user_id AND u.confirmed > 0))::int AS shopping`,
    [eventId, windowSeconds, shoppingSeconds],
  );
  return expectRow(rows[0], 'waitroom demand');
}
