// Reading and cancelling bookings. Another user's booking is reported as not
// found, so its existence does not leak.
import type { Pool } from 'pg';
import {
  ok, refuse, type Booking, type BookingPage, type BookingRef, type CallContext, type ListBookings, type Outcome,
} from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import { availabilityOf, type SeatCounts } from '../../platform/seat-rows.js';
import { waitlistDemand } from './seats.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { BOOKING_COLUMNS, toBooking, type BookingRow } from './rows.js';

const visibleTo = (b: { user_id: string }, ctx: CallContext): boolean => ctx.role === 'admin' || b.user_id === ctx.userId;

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
    `SELECT ${BOOKING_COLUMNS} FROM bookings WHERE user_id = $1 ${after} ORDER BY id DESC LIMIT $2`, params);
  const items = rows.slice(0, limit).map(toBooking);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
}

/**
 * Returns the seats under the event row lock (event first, then booking: the
 * same order as booking): to the waitlist when anyone waits, else to sale.
 */
export async function cancelBooking(pool: Pool, shardCount: number, { bookingId }: BookingRef, ctx: CallContext): Promise<Outcome<Booking>> {
  const found = await pool.query<{ event_id: string; user_id: string }>('SELECT event_id, user_id FROM bookings WHERE id = $1', [bookingId]);
  const ref = found.rows[0];
  if (!ref || !visibleTo(ref, ctx)) return refuse('NOT_FOUND', 'booking not found');
  return inTransaction(pool, async (client) => {
    const event = await client.query<{ version: number; open: boolean }>(
      'SELECT version, starts_at > now() AS open FROM events WHERE id = $1 FOR UPDATE', [ref.event_id]);
    const { rows } = await client.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE`, [bookingId]);
    const booking = expectRow(rows[0], 'inventory cancel: booking lock');
    const locked = expectRow(event.rows[0], 'inventory cancel: event lock');
    if (booking.status === 'cancelled') return refuse('ALREADY_CANCELLED', 'booking is already cancelled');
    if (!locked.open) return refuse('BOOKING_NOT_CANCELLABLE', 'the event has started');
    const cancelled = await client.query<BookingRow>(
      `UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE id = $1 RETURNING ${BOOKING_COLUMNS}`, [bookingId]);
    await client.query(
      'UPDATE event_user_tickets SET confirmed = confirmed - $3 WHERE event_id = $1 AND user_id = $2',
      [booking.event_id, booking.user_id, booking.quantity]);
    const toWaitlist = await waitlistDemand(client, booking.event_id) ? booking.quantity : 0;
    const updated = await client.query<SeatCounts & { version: number }>(
      `UPDATE events SET available = available + $2::int - $4::int, set_aside = set_aside + $4::int, version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $3 RETURNING capacity, available, held, set_aside, price, status, version`,
      [booking.event_id, booking.quantity, locked.version, toWaitlist]);
    const row = updated.rows[0];
    if (!row) throw new Error(`event ${booking.event_id} changed under its row lock`);
    const result = toBooking(expectRow(cancelled.rows[0], 'inventory cancel: booking update'));
    const change = { eventId: booking.event_id, version: row.version, availability: availabilityOf(row), requestId: ctx.requestId };
    await recordEvents(client, shardCount, [
      domainEvent('booking.cancelled', change, result),
      domainEvent('seats.released', change, { quantity: booking.quantity, reason: 'booking-cancelled', toWaitlist }),
    ]);
    return ok(result);
  });
}
