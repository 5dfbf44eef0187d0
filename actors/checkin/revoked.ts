// The revocation list an offline scanner downloads: the tickets of an event's
// bookings cancelled since a time (an event's cancellation cancels each of
// its bookings, so it is covered too). `until` is the next `since`; it lags
// the clock a little, so a cancellation committed just after this read with
// a slightly earlier time is listed next time rather than never.
import type { Pool } from 'pg';
import { ticketIdOf, type ListRevoked, type RevokedList } from '../../protocol/index.js';

const LAG = '10 seconds';

export async function listRevoked(pool: Pool, req: ListRevoked): Promise<RevokedList> {
  const { rows } = await pool.query<{ id: string; quantity: number; cancelled_at: Date; until: Date }>({
    name: 'checkin.revoked',
    text: `SELECT b.id, b.quantity, b.cancelled_at, u.until
             FROM (SELECT greatest(now() - interval '${LAG}', coalesce($2::timestamptz, '-infinity')) AS until) u
             LEFT JOIN bookings b ON b.event_id = $1 AND b.status = 'cancelled' AND b.cancelled_at > coalesce($2::timestamptz, '-infinity')
            ORDER BY b.cancelled_at`,
    values: [req.eventId, req.since ?? null],
  });
  const until = rows[0]?.until ?? new Date();
  const items = rows
    .filter((r) => r.id !== null)
    .flatMap((r) =>
      Array.from({ length: r.quantity }, (_, seq) => ({
        ticketId: ticketIdOf(r.id, seq),
        revokedAt: r.cancelled_at.toISOString(),
      })),
    );
  return { items, until: Number.isFinite(until.getTime()) ? until.toISOString() : new Date(0).toISOString() };
}
