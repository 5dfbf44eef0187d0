// Queue tickets in Postgres: joining (a whole batch of joiners of one room in
// one transaction), reading, leaving. One live ticket per user per event is
// the partial unique index; a second join returns the first ticket.
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { pollAfterSeconds, signAdmission, type QueueTicket } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { inTransaction } from '../../platform/resources.js';

/**
 * The live ticket of each of $2's users in event $1: one probe of the (event, user) index per user.
 * Written as `user_id = ANY($2)`, the planner used the index for the event alone and filtered every
 * ticket of the event whenever the table had no statistics yet, which is the case in a new system's
 * first sale, until autovacuum's analyze, tens of seconds in: 7-11 ms for any batch (20,000 tickets),
 * against 0.4 ms for 20 users this way. The crowd's first polls after a draw are ~15,000 lookups,
 * and that was most of Postgres's work during the sale. The LIMIT keeps the subquery a per-user probe
 * (one live ticket per user is the unique index, so it drops nothing).
 */
const LIVE_TICKETS = `SELECT t.* FROM (SELECT DISTINCT unnest($2::uuid[]) AS user_id) AS u
  CROSS JOIN LATERAL (
    SELECT * FROM waitroom_tickets w WHERE w.event_id = $1 AND w.user_id = u.user_id AND w.state IN ('waiting', 'admitted')
    LIMIT 1
  ) AS t`;

export interface TicketRow {
  id: string;
  event_id: string;
  user_id: string;
  state: 'waiting' | 'admitted' | 'expired' | 'left';
  prequeue: boolean;
  rank: string;
  joined_at: Date;
  admitted_at: Date | null;
  admission_expires_at: Date | null;
}

export interface Joined {
  row: TicketRow;
  created: boolean;
}

/** Where a waiting ticket stands, as the caller worked it out (null = not drawn yet). */
export interface Standing {
  position: number | null;
  estimatedWaitSeconds: number | null;
}

export function toTicket(row: TicketRow, standing: Standing, key: Buffer, now = Date.now()): QueueTicket {
  const expiresAt = row.admission_expires_at?.getTime();
  const lapsed = row.state === 'admitted' && expiresAt !== undefined && expiresAt <= now;
  const admitted = row.state === 'admitted' && !lapsed && expiresAt !== undefined;
  const state = lapsed ? 'expired' : row.state;
  const position = row.state === 'waiting' ? standing.position : null;
  const estimatedWaitSeconds =
    row.state === 'waiting' ? standing.estimatedWaitSeconds : row.state === 'admitted' ? 0 : null;
  return {
    id: row.id,
    eventId: row.event_id,
    state,
    position,
    estimatedWaitSeconds,
    pollAfterSeconds: pollAfterSeconds({
      state,
      position,
      estimatedWaitSeconds,
      // Before the draw a pre-queue rank is the join order (the draw gives it a negative one).
      joinOrder: row.prequeue ? Number(row.rank) : undefined,
    }),
    joinedAt: row.joined_at.toISOString(),
    admittedAt: row.admitted_at?.toISOString() ?? null,
    admission: admitted
      ? {
          token: signAdmission(key, { u: row.user_id, e: row.event_id, x: expiresAt }),
          expiresAt: new Date(expiresAt).toISOString(),
        }
      : null,
  };
}

/**
 * Joins every user of the batch, in arrival order. Bumping the room's rank
 * counter locks the room row, which orders the batch against the draw: a
 * batch that began before opensAt and before the draw is in the pre-queue.
 * undefined = the event has no room.
 */
export async function joinBatch(
  pool: pg.Pool,
  eventId: string,
  userIds: readonly string[],
): Promise<Map<string, Joined> | undefined> {
  return inTransaction(pool, async (client) => {
    const {
      rows: [room],
    } = await client.query<{ first: string; prequeue: boolean }>(
      `UPDATE waitroom_rooms SET next_rank = next_rank + $2 WHERE event_id = $1
       RETURNING next_rank - $2 AS first, (shuffled_at IS NULL AND now() < opens_at) AS prequeue`,
      [eventId, userIds.length],
    );
    if (!room) return undefined;
    const first = Number(room.first);
    const inserted = await client.query<TicketRow>(
      `INSERT INTO waitroom_tickets (id, event_id, user_id, state, prequeue, rank)
       SELECT t.id, $1, t.user_id, 'waiting', $2, t.rank FROM unnest($3::uuid[], $4::uuid[], $5::bigint[]) AS t(id, user_id, rank)
       ON CONFLICT (event_id, user_id) WHERE state IN ('waiting', 'admitted') DO NOTHING
       RETURNING *`,
      [eventId, room.prequeue, userIds.map(() => uuidv7()), userIds, userIds.map((_, i) => first + i)],
    );
    const out = new Map<string, Joined>(inserted.rows.map((row) => [row.user_id, { row, created: true }]));
    const already = userIds.filter((u) => !out.has(u));
    if (already.length > 0) {
      const { rows } = await client.query<TicketRow>(LIVE_TICKETS, [eventId, already]);
      for (const row of rows) out.set(row.user_id, { row, created: false });
    }
    return out;
  });
}

/** Each user's live ticket, else their latest one; users without a ticket are absent. */
export async function latestTickets(
  pool: pg.Pool,
  eventId: string,
  userIds: readonly string[],
): Promise<Map<string, TicketRow>> {
  const { rows } = await pool.query<TicketRow>(
    `SELECT DISTINCT ON (user_id) * FROM waitroom_tickets WHERE event_id = $1 AND user_id = ANY($2::uuid[])
     ORDER BY user_id, (state IN ('waiting', 'admitted')) DESC, joined_at DESC`,
    [eventId, userIds],
  );
  return new Map(rows.map((r) => [r.user_id, r]));
}

export async function liveTickets(pool: pg.Pool, eventId: string, userIds: readonly string[]): Promise<TicketRow[]> {
  const { rows } = await pool.query<TicketRow>(LIVE_TICKETS, [eventId, userIds]);
  return rows;
}

/** Gives the place up; says which rank left the waiting line (null if the ticket was admitted or absent). */
export async function leaveQueue(
  pool: pg.Pool,
  eventId: string,
  userId: string,
): Promise<{ left: boolean; waitingRank: number | null }> {
  const { rows } = await pool.query<{ was: string; rank: string }>(
    `UPDATE waitroom_tickets t SET state = 'left', ended_at = now() FROM waitroom_tickets old
     WHERE t.id = old.id AND t.event_id = $1 AND t.user_id = $2 AND t.state IN ('waiting', 'admitted')
     RETURNING old.state AS was, t.rank`,
    [eventId, userId],
  );
  const row = rows[0];
  return { left: row !== undefined, waitingRank: row?.was === 'waiting' ? Number(row.rank) : null };
}

/** Places counted in Postgres, for when the Redis mirror is being rebuilt. */
export async function placeInPostgres(pool: pg.Pool, eventId: string, rank: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM waitroom_tickets WHERE event_id = $1 AND state = 'waiting' AND rank < $2`,
    [eventId, rank],
  );
  return expectRow(rows[0], 'waitroom place count').n + 1;
}
