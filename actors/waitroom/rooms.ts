// A waiting room's settings and counts in Postgres. Turning a room off ends
// every live ticket (the event books as before); turning it on again starts
// a fresh room with a new draw.
import type pg from 'pg';
import { ok, refuse, type Outcome, type Room, type RoomState, type SetRoom } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';

export interface RoomRow {
  event_id: string;
  opens_at: Date;
  admit_per_minute: number | null;
  admission_ttl_s: number;
  shuffle_seed: string | null;
  shuffled_at: Date | null;
  shuffled_count: number | null;
}

export const roomOf = (r: RoomRow): Room => ({
  enabled: true,
  opensAt: r.opens_at.toISOString(),
  admitPerMinute: r.admit_per_minute,
  admissionTtlSeconds: r.admission_ttl_s,
});

export async function setRoom(pool: pg.Pool, req: SetRoom, defaultTtl: number): Promise<Outcome<Room>> {
  const {
    rows: [event],
  } = await pool.query<{ status: string }>('SELECT status FROM events WHERE id = $1', [req.eventId]);
  if (!event) return refuse('NOT_FOUND', 'event not found');
  if (event.status !== 'scheduled') return refuse('EVENT_NOT_BOOKABLE', 'a waiting room needs a scheduled event');
  // Changing opensAt after the draw changes nothing about the order already drawn.
  const { rows } = await pool.query<RoomRow>(
    `INSERT INTO waitroom_rooms (event_id, opens_at, admit_per_minute, admission_ttl_s) VALUES ($1, $2, $3, $4)
     ON CONFLICT (event_id) DO UPDATE SET opens_at = EXCLUDED.opens_at, admit_per_minute = EXCLUDED.admit_per_minute,
       admission_ttl_s = EXCLUDED.admission_ttl_s, updated_at = now()
     RETURNING *`,
    [req.eventId, req.opensAt, req.admitPerMinute ?? null, req.admissionTtlSeconds ?? defaultTtl],
  );
  return ok(roomOf(expectRow(rows[0], 'waitroom room upsert')));
}

/** Room off: live tickets end as `left`, so nobody holds a place in a room that no longer exists. */
export async function removeRoom(client: pg.PoolClient, eventId: string): Promise<Outcome<Record<string, never>>> {
  const gone = await client.query('DELETE FROM waitroom_rooms WHERE event_id = $1', [eventId]);
  if (gone.rowCount === 0) return refuse('NOT_FOUND', 'this event has no waiting room');
  await client.query(
    `UPDATE waitroom_tickets SET state = 'left', ended_at = now() WHERE event_id = $1 AND state IN ('waiting', 'admitted')`,
    [eventId],
  );
  return ok({});
}

export async function roomRow(pool: pg.Pool, eventId: string): Promise<RoomRow | undefined> {
  return (await pool.query<RoomRow>('SELECT * FROM waitroom_rooms WHERE event_id = $1', [eventId])).rows[0];
}

export async function allRooms(pool: pg.Pool): Promise<RoomRow[]> {
  return (await pool.query<RoomRow>('SELECT * FROM waitroom_rooms ORDER BY event_id')).rows;
}

/** Counts by state (expired admissions not yet swept count as expired). */
export async function roomState(
  pool: pg.Pool,
  rows: RoomRow[],
  measured: (eventId: string) => number,
): Promise<RoomState[]> {
  if (rows.length === 0) return [];
  const { rows: counts } = await pool.query<{
    event_id: string;
    waiting: number;
    admitted: number;
    expired: number;
    left: number;
  }>(
    `SELECT event_id,
       count(*) FILTER (WHERE state = 'waiting')::int AS waiting,
       count(*) FILTER (WHERE state = 'admitted' AND admission_expires_at > now())::int AS admitted,
       count(*) FILTER (WHERE state = 'expired' OR (state = 'admitted' AND admission_expires_at <= now()))::int AS expired,
       count(*) FILTER (WHERE state = 'left')::int AS left
     FROM waitroom_tickets WHERE event_id = ANY($1::uuid[]) GROUP BY event_id`,
    [rows.map((r) => r.event_id)],
  );
  const byEvent = new Map(counts.map((c) => [c.event_id, c]));
  return rows.map((r) => {
    const c = byEvent.get(r.event_id);
    return {
      ...roomOf(r),
      eventId: r.event_id,
      waiting: c?.waiting ?? 0,
      admitted: c?.admitted ?? 0,
      expired: c?.expired ?? 0,
      left: c?.left ?? 0,
      measuredAdmitPerMinute: Math.round(measured(r.event_id) * 60 * 10) / 10,
      shuffle:
        r.shuffled_at && r.shuffle_seed
          ? { seed: r.shuffle_seed, at: r.shuffled_at.toISOString(), count: r.shuffled_count ?? 0 }
          : null,
    };
  });
}
