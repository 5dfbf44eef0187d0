// The inventory's promise, read straight from its tables: the seats an event
// says it sold (capacity − available) are exactly the confirmed quantities in
// bookings and in the per-user counters, never more than capacity. Tests and
// the benchmark check every sale against this one query.
import type { Pool } from 'pg';

export interface SeatLedger {
  capacity: number;
  available: number;
  /** capacity − available, as the event row says. */
  sold: number;
  /** Sum of confirmed booking quantities. */
  confirmed: number;
  confirmedBookings: number;
  /** Sum of the per-user counters the limit check reads. */
  perUserTotal: number;
  /** The most confirmed tickets any one user holds. */
  maxPerUser: number;
  /** Every invariant above holds. */
  ok: boolean;
}

export async function readSeatLedger(db: Pool, eventId: string): Promise<SeatLedger> {
  const { rows: [row] } = await db.query<{
    capacity: number; available: number; confirmed: number; bookings: number; per_user: number; max_per_user: number;
  }>(
    `SELECT e.capacity, e.available, b.confirmed, b.bookings, b.max_per_user,
            (SELECT coalesce(sum(confirmed), 0) FROM event_user_tickets t WHERE t.event_id = e.id)::int AS per_user
       FROM events e,
            LATERAL (SELECT coalesce(sum(q), 0)::int AS confirmed, coalesce(sum(n), 0)::int AS bookings, coalesce(max(q), 0)::int AS max_per_user
                       FROM (SELECT sum(quantity) AS q, count(*) AS n FROM bookings
                              WHERE event_id = e.id AND status = 'confirmed' GROUP BY user_id) per_user) b
      WHERE e.id = $1`, [eventId]);
  if (!row) throw new Error(`seat ledger: event ${eventId} not found`);
  const sold = row.capacity - row.available;
  return {
    capacity: row.capacity, available: row.available, sold, confirmed: row.confirmed, confirmedBookings: row.bookings,
    perUserTotal: row.per_user, maxPerUser: row.max_per_user,
    ok: sold === row.confirmed && row.per_user === row.confirmed && row.available >= 0 && row.confirmed <= row.capacity,
  };
}
