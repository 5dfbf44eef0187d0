// The inventory's promise, read straight from its tables: every seat is in
// exactly one place — sold (confirmed bookings, also counted per user), held
// (active holds), set aside for the waitlist, or available:
//   capacity = confirmed + held + set aside + available.
// Tests and the benchmark check every sale against this one query.
import type { Pool } from 'pg';

export interface SeatLedger {
  capacity: number;
  available: number;
  /** capacity − available − held − set aside, as the event row says. */
  sold: number;
  /** Seats in holds, as the event row says. */
  held: number;
  /** Sum of active hold quantities. */
  inHolds: number;
  /** Seats set aside for the waitlist, not yet offered. */
  setAside: number;
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
  const {
    rows: [row],
  } = await db.query<{
    capacity: number;
    available: number;
    held: number;
    set_aside: number;
    in_holds: number;
    confirmed: number;
    bookings: number;
    per_user: number;
    max_per_user: number;
  }>(
    `SELECT e.capacity, e.available, e.held, e.set_aside, b.confirmed, b.bookings, b.max_per_user,
            (SELECT coalesce(sum(confirmed), 0) FROM event_user_tickets t WHERE t.event_id = e.id)::int AS per_user,
            (SELECT coalesce(sum(quantity), 0) FROM holds h WHERE h.event_id = e.id AND h.status = 'active')::int AS in_holds
       FROM events e,
            LATERAL (SELECT coalesce(sum(q), 0)::int AS confirmed, coalesce(sum(n), 0)::int AS bookings, coalesce(max(q), 0)::int AS max_per_user
                       FROM (SELECT sum(quantity) AS q, count(*) AS n FROM bookings
                              WHERE event_id = e.id AND status = 'confirmed' GROUP BY user_id) per_user) b
      WHERE e.id = $1`,
    [eventId],
  );
  if (!row) throw new Error(`seat ledger: event ${eventId} not found`);
  const sold = row.capacity - row.available - row.held - row.set_aside;
  return {
    capacity: row.capacity,
    available: row.available,
    sold,
    held: row.held,
    inHolds: row.in_holds,
    setAside: row.set_aside,
    confirmed: row.confirmed,
    confirmedBookings: row.bookings,
    perUserTotal: row.per_user,
    maxPerUser: row.max_per_user,
    ok:
      sold === row.confirmed &&
      row.held === row.in_holds &&
      row.per_user === row.confirmed &&
      row.available >= 0 &&
      row.held >= 0 &&
      row.set_aside >= 0 &&
      row.confirmed <= row.capacity,
  };
}

/**
 * The invariant as one number per scheduled event, for the metrics gauge:
 * confirmed + held + set aside + available − capacity, which is always 0.
 * One grouped scan (the confirmed-bookings index), cheap enough per scrape.
 */
export async function readSeatDrift(db: Pool): Promise<{ eventId: string; drift: number }[]> {
  const { rows } = await db.query<{ id: string; drift: number }>(
    `SELECT e.id, (coalesce(b.confirmed, 0) + e.held + e.set_aside + e.available - e.capacity)::int AS drift
       FROM events e
       LEFT JOIN (SELECT event_id, sum(quantity) AS confirmed FROM bookings WHERE status = 'confirmed' GROUP BY event_id) b
         ON b.event_id = e.id
      WHERE e.status = 'scheduled'`,
  );
  return rows.map((r) => ({ eventId: r.id, drift: r.drift }));
}
