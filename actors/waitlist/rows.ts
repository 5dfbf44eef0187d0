// Waitlist rows and their protocol shape. An entry's position is computed,
// not stored: the number of waiting entries ahead of it in queue order
// (priority tier first, then join time), plus one.
import type { PoolClient } from 'pg';
import type { WaitlistEntry } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';

export const QUEUE_ORDER = 'priority DESC, joined_at, id';

export interface EntryRow {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  priority: number;
  status: WaitlistEntry['status'];
  joined_at: Date;
  skips: number;
  hold_id: string | null;
  expires_at: Date | null;
}

const ENTRY_SELECT = `SELECT e.id, e.event_id, e.user_id, e.quantity, e.priority, e.status, e.joined_at, e.skips,
    h.id AS hold_id, h.expires_at
  FROM waitlist_entries e LEFT JOIN holds h ON h.id = e.hold_id AND e.status = 'offered' AND h.status = 'active'`;

/** Compared in the database: timestamps there have microseconds, JavaScript dates only milliseconds. */
const AHEAD_OF_ME = `w.event_id = me.event_id AND w.status = 'waiting'
  AND (w.priority > me.priority OR (w.priority = me.priority AND (w.joined_at, w.id) < (me.joined_at, me.id)))`;

export async function positionOf(client: PoolClient, row: EntryRow): Promise<number | null> {
  if (row.status !== 'waiting') return null;
  const { rows } = await client.query<{ ahead: number }>({
    name: 'waitlist.position',
    text: `SELECT count(w.id)::int AS ahead FROM waitlist_entries me JOIN waitlist_entries w ON ${AHEAD_OF_ME} WHERE me.id = $1`,
    values: [row.id],
  });
  return expectRow(rows[0], 'waitlist.position').ahead + 1;
}

export function toEntry(row: EntryRow, position: number | null): WaitlistEntry {
  return {
    id: row.id,
    eventId: row.event_id,
    userId: row.user_id,
    quantity: row.quantity,
    priority: row.priority,
    position,
    status: row.status,
    joinedAt: row.joined_at.toISOString(),
    offer: row.hold_id && row.expires_at ? { holdId: row.hold_id, expiresAt: row.expires_at.toISOString() } : null,
  };
}

/** One entry by id, with its position and live offer. */
export async function readEntry(client: PoolClient, entryId: string): Promise<WaitlistEntry | undefined> {
  const { rows } = await client.query<EntryRow>(`${ENTRY_SELECT} WHERE e.id = $1`, [entryId]);
  return rows[0] ? toEntry(rows[0], await positionOf(client, rows[0])) : undefined;
}

/** A user's live entry (waiting or offered) for an event, else their latest one. */
export async function entryOfUser(client: PoolClient, eventId: string, userId: string): Promise<EntryRow | undefined> {
  const { rows } = await client.query<EntryRow>(
    `${ENTRY_SELECT} WHERE e.event_id = $1 AND e.user_id = $2
     ORDER BY (e.status IN ('waiting', 'offered')) DESC, e.joined_at DESC LIMIT 1`,
    [eventId, userId],
  );
  return rows[0];
}

/** Waiting entries in queue order, after the entry `afterId` when given. */
export async function queue(client: PoolClient, eventId: string, limit: number, afterId?: string): Promise<EntryRow[]> {
  const params: unknown[] = [eventId, limit];
  // Behind the cursor's entry `c` in queue order.
  const from = afterId
    ? `AND EXISTS (SELECT 1 FROM waitlist_entries c WHERE c.id = $3
         AND (e.priority < c.priority OR (e.priority = c.priority AND (e.joined_at, e.id) > (c.joined_at, c.id))))`
    : '';
  if (afterId) params.push(afterId);
  const { rows } = await client.query<EntryRow>(
    `${ENTRY_SELECT} WHERE e.event_id = $1 AND e.status = 'waiting' ${from}
     ORDER BY e.priority DESC, e.joined_at, e.id LIMIT $2`,
    params,
  );
  return rows;
}
