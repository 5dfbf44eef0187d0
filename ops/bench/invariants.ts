// The promise behind the speed: after a flash sale, the seats the event says
// it sold (capacity − available) are exactly the confirmed quantities in the
// bookings table, and never more than capacity. Read straight from Postgres,
// not through the API, so a bug in the read path cannot hide one in the write path.
import type pg from 'pg';

export interface OversellCheck {
  capacity: number;
  available: number;
  /** capacity − available, as the event row says. */
  sold: number;
  /** Sum of confirmed booking quantities. */
  confirmed: number;
  confirmedBookings: number;
  /** Sum of the per-user counters the limit check reads; must match too. */
  perUserTotal: number;
  ok: boolean;
}

export async function checkOversell(db: pg.Pool, eventId: string): Promise<OversellCheck> {
  const { rows } = await db.query<{
    capacity: number; available: number; confirmed: string; bookings: string; per_user: string;
  }>(
    `SELECT e.capacity, e.available,
            (SELECT coalesce(sum(quantity), 0) FROM bookings b WHERE b.event_id = e.id AND b.status = 'confirmed') AS confirmed,
            (SELECT count(*) FROM bookings b WHERE b.event_id = e.id AND b.status = 'confirmed') AS bookings,
            (SELECT coalesce(sum(confirmed), 0) FROM event_user_tickets t WHERE t.event_id = e.id) AS per_user
       FROM events e WHERE e.id = $1`,
    [eventId],
  );
  const row = rows[0];
  if (!row) throw new Error(`oversell check: event ${eventId} not found`);
  const sold = row.capacity - row.available;
  const confirmed = Number(row.confirmed);
  const perUserTotal = Number(row.per_user);
  return {
    capacity: row.capacity,
    available: row.available,
    sold,
    confirmed,
    confirmedBookings: Number(row.bookings),
    perUserTotal,
    ok: sold === confirmed && perUserTotal === confirmed && confirmed <= row.capacity && row.available >= 0,
  };
}

export function describeOversell(c: OversellCheck): string {
  return `capacity ${c.capacity}, available ${c.available}, sold (capacity − available) ${c.sold}, `
    + `confirmed quantity ${c.confirmed} in ${c.confirmedBookings} bookings, per-user counters ${c.perUserTotal} → ${c.ok ? 'OK' : 'MISMATCH'}`;
}
