// The one owner of booking rows and of the per-user ticket count beside them
// (event_user_tickets: the confirmed tickets of one user for one event, which
// the per-user limit reads, so it never has to sum bookings). A booking is
// built here, and written here with its count in the same statement; every
// change of a booking's status moves the count with it. Inventory books and
// cancels; the waitlist reads the count before it lets someone join.
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Booking } from '../protocol/index.js';
import { EVENT_COLUMNS, type EventRow } from './event-row.js';
import { together, whereIf, type Statement } from './sql-parts.js';

export const BOOKING_COLUMNS = `id, event_id, user_id, quantity, unit_price, total_price, currency, status,
  created_at, cancelled_at`;

export interface BookingRow {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  unit_price: number;
  total_price: number;
  currency: string;
  status: Booking['status'];
  created_at: Date;
  cancelled_at: Date | null;
}

export function toBooking(r: BookingRow): Booking {
  return {
    id: r.id,
    eventId: r.event_id,
    userId: r.user_id,
    quantity: r.quantity,
    unitPrice: r.unit_price,
    totalPrice: r.total_price,
    currency: r.currency,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    cancelledAt: r.cancelled_at ? r.cancelled_at.toISOString() : null,
  };
}

/** A confirmed booking at the event's price in force (read under its row lock). */
export const newBooking = (
  event: Pick<EventRow, 'id' | 'price' | 'currency'>,
  userId: string,
  quantity: number,
  createdAt: string,
): Booking => ({
  id: uuidv7(),
  eventId: event.id,
  userId,
  quantity,
  unitPrice: event.price,
  totalPrice: event.price * quantity,
  currency: event.currency,
  status: 'confirmed',
  createdAt,
  cancelledAt: null,
});

/**
 * The statements writing bookings of one event (built by newBooking in one
 * batch: one price, currency and time) and adding them to their users'
 * counts. `holdIds[i]` is the hold booking i confirms, if any; `onlyIf`, a
 * condition (sql-parts' returnedRow) without which neither writes anything.
 */
export function bookingInserts(
  bookings: readonly Booking[],
  { holdIds, onlyIf }: { holdIds?: readonly (string | null)[]; onlyIf?: string } = {},
): Statement[] {
  const first = bookings[0];
  if (!first) return [];
  const userIds = bookings.map((b) => b.userId);
  const quantities = bookings.map((b) => b.quantity);
  return [
    {
      text: `INSERT INTO bookings (id, event_id, user_id, quantity, unit_price, total_price, currency, status, created_at, hold_id)
             SELECT id, $1, user_id, quantity, $2, quantity * $2, $3, 'confirmed', $4, hold_id
             FROM unnest($5::uuid[], $6::uuid[], $7::int[], $8::uuid[]) AS b(id, user_id, quantity, hold_id)
             ${whereIf(onlyIf)}`,
      values: [
        first.eventId,
        first.unitPrice,
        first.currency,
        first.createdAt,
        bookings.map((b) => b.id),
        userIds,
        quantities,
        bookings.map((_, i) => holdIds?.[i] ?? null),
      ],
    },
    {
      text: `INSERT INTO event_user_tickets (event_id, user_id, confirmed)
             SELECT $1, user_id, sum(quantity) FROM unnest($2::uuid[], $3::int[]) AS b(user_id, quantity)
             ${whereIf(onlyIf)} GROUP BY user_id
             ON CONFLICT (event_id, user_id) DO UPDATE SET confirmed = event_user_tickets.confirmed + EXCLUDED.confirmed`,
      values: [first.eventId, userIds, quantities],
    },
  ];
}

/** Writes bookingInserts' statements in one round trip. */
export async function insertBookings(
  client: PoolClient,
  bookings: readonly Booking[],
  holdIds?: readonly (string | null)[],
): Promise<void> {
  if (bookings.length > 0) await client.query(together('booking-record.insert', bookingInserts(bookings, { holdIds })));
}

/** Cancels one booking (locked by the caller) and takes its tickets off its user's count. */
export async function cancelBookingRow(client: PoolClient, booking: BookingRow): Promise<BookingRow> {
  const { rows } = await client.query<BookingRow>(
    `WITH t AS (UPDATE event_user_tickets SET confirmed = confirmed - $3 WHERE event_id = $2 AND user_id = $4)
     UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE id = $1 RETURNING ${BOOKING_COLUMNS}`,
    [booking.id, booking.event_id, booking.quantity, booking.user_id],
  );
  const row = rows[0];
  if (!row) throw new Error(`booking ${booking.id} vanished under its lock`);
  return row;
}

/** Cancels every confirmed booking of an event; no user holds a ticket for it any more. */
export async function cancelEventBookings(client: PoolClient, eventId: string): Promise<BookingRow[]> {
  const { rows } = await client.query<BookingRow>(
    `WITH t AS (DELETE FROM event_user_tickets WHERE event_id = $1)
     UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE event_id = $1 AND status = 'confirmed'
     RETURNING ${BOOKING_COLUMNS}`,
    [eventId],
  );
  return rows;
}

/** Confirmed tickets each of these users holds for the event (absent: none). */
export async function ticketsHeld(
  client: PoolClient,
  eventId: string,
  userIds: readonly string[],
): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await client.query<{ user_id: string; confirmed: number }>({
    name: 'booking-record.tickets-held',
    text: 'SELECT user_id, confirmed FROM event_user_tickets WHERE event_id = $1 AND user_id = ANY($2::uuid[])',
    values: [eventId, userIds],
  });
  return new Map(rows.map((r) => [r.user_id, r.confirmed]));
}

/**
 * The event row, read without a lock, and the confirmed tickets each of these
 * users holds for it, as of one moment (one statement, one round trip).
 * Every write of a user's count also writes the row, so a write
 * checked against this row's version proves both are still true.
 */
export async function eventWithTickets(
  db: Pool,
  eventId: string,
  userIds: readonly string[],
): Promise<{ event: EventRow; owned: Map<string, number> } | undefined> {
  const { rows } = await db.query<EventRow & { owned: Record<string, number> }>({
    name: 'booking-record.event-with-tickets',
    text: `SELECT ${EVENT_COLUMNS},
             (SELECT coalesce(json_object_agg(t.user_id, t.confirmed), '{}'::json) FROM event_user_tickets t
              WHERE t.event_id = $1 AND t.user_id = ANY($2::uuid[])) AS owned
           FROM events WHERE id = $1`,
    values: [eventId, userIds],
  });
  const row = rows[0];
  if (!row) return undefined;
  const { owned, ...event } = row;
  return { event, owned: new Map(Object.entries(owned)) };
}

/** The per-user limit's refusal text, or undefined when `quantity` more fits. */
export const overLimit = (already: number, quantity: number, max: number): string | undefined =>
  already + quantity > max ? `you hold ${already} of at most ${max} tickets for this event` : undefined;
