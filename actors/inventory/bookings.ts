// Reading and cancelling bookings. Another user's booking is reported as not
// found, so its existence does not leak.
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type Booking,
  type BookingPage,
  type BookingRef,
  type CallContext,
  type ListBookings,
  type Outcome,
} from '../../protocol/index.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import { changeOf, lockEvent, writeEvent } from '../../platform/event-row.js';
import { BOOKING_COLUMNS, cancelBookingRow, toBooking, type BookingRow } from '../../platform/booking-record.js';
import { waitlistDemand } from './seats.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';

const visibleTo = (b: { user_id: string }, ctx: CallContext): boolean =>
  ctx.role === 'admin' || b.user_id === ctx.userId;

export async function getBooking(pool: Pool, { bookingId }: BookingRef, ctx: CallContext): Promise<Outcome<Booking>> {
  const { rows } = await pool.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = $1`, [bookingId]);
  const row = rows[0];
  return row && visibleTo(row, ctx) ? ok(toBooking(row)) : refuse('NOT_FOUND', 'booking not found');
}

export async function listBookings(pool: Pool, req: ListBookings, ctx: CallContext): Promise<Outcome<BookingPage>> {
  if (!ctx.userId) return refuse('UNAUTHENTICATED', 'sign in to list your bookings');
  const limit = req.limit ?? 20;
  const params: unknown[] = [ctx.userId, limit + 1];
  let after = '';
  if (req.cursor) {
    const key = decodeCursor(req.cursor, ['uuid']);
    if (!key) return refuse('VALIDATION_FAILED', 'cursor is not valid');
    params.push(key[0]);
    after = 'AND id < $3';
  }
  // Ids are UUIDv7, so id order is creation order: newest first.
  const { rows } = await pool.query<BookingRow>(
    `SELECT ${BOOKING_COLUMNS} FROM bookings WHERE user_id = $1 ${after} ORDER BY id DESC LIMIT $2`,
    params,
  );
  const items = rows.slice(0, limit).map(toBooking);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
}

/**
 * Returns the seats under the event row lock (event first, then booking: the
 * same order as booking): to the waitlist when anyone waits, else to sale.
 */
export async function cancelBooking(
  pool: Pool,
  shardCount: number,
  { bookingId }: BookingRef,
  ctx: CallContext,
): Promise<Outcome<Booking>> {
  const found = await pool.query<{ event_id: string; user_id: string }>(
    'SELECT event_id, user_id FROM bookings WHERE id = $1',
    [bookingId],
  );
  const ref = found.rows[0];
  if (!ref || !visibleTo(ref, ctx)) return refuse('NOT_FOUND', 'booking not found');
  return inTransaction(pool, async (client) => {
    const event = await lockEvent(client, ref.event_id);
    const { rows } = await client.query<BookingRow>(
      `SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE`,
      [bookingId],
    );
    const booking = rows[0];
    if (!event || !booking) return refuse('NOT_FOUND', 'booking not found');
    if (booking.status === 'cancelled') return refuse('ALREADY_CANCELLED', 'booking is already cancelled');
    if (!event.open) return refuse('BOOKING_NOT_CANCELLABLE', 'the event has started');
    const result = toBooking(await cancelBookingRow(client, booking));
    const toWaitlist = (await waitlistDemand(client, booking.event_id)) ? booking.quantity : 0;
    const after = await writeEvent(client, event, {
      seats: { available: booking.quantity - toWaitlist, setAside: toWaitlist },
    });
    const change = changeOf(after, ctx.requestId);
    await recordEvents(client, shardCount, [
      domainEvent('booking.cancelled', change, result),
      domainEvent('seats.released', change, { quantity: booking.quantity, reason: 'booking-cancelled', toWaitlist }),
    ]);
    return ok(result);
  });
}
