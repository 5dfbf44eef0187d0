// A booking's tickets, derived on read: `quantity` tickets with ids from
// (booking id, seq), codes signed with the current key, status from the
// booking, its event and the check-ins. Shared by the check-in actor (the
// API) and the mailer (the QR codes in the confirmation mail).
import type { Pool } from 'pg';
import { signTicketCode, ticketIdOf, type Ticket } from '../../protocol/index.js';
import type { TicketKeys } from './keys.js';

export interface BookingTickets {
  userId: string;
  eventId: string;
  items: Ticket[];
}

interface BookingRow {
  user_id: string;
  event_id: string;
  quantity: number;
  status: string;
  event_status: string;
}

/** Codes for tickets 0..quantity-1 of a booking: what a mail needs, no read of the booking. */
export async function codesFor(
  keys: TicketKeys,
  eventId: string,
  bookingId: string,
  quantity: number,
): Promise<{ id: string; seq: number; code: string }[]> {
  const { kid, privateKey } = await keys.current();
  return Array.from({ length: quantity }, (_, seq) => ({
    id: ticketIdOf(bookingId, seq),
    seq,
    code: signTicketCode({ kid, eventId, bookingId, seq }, privateKey),
  }));
}

export async function readTickets(
  pool: Pool,
  keys: TicketKeys,
  bookingId: string,
): Promise<BookingTickets | undefined> {
  const {
    rows: [b],
  } = await pool.query<BookingRow>({
    name: 'tickets.read-booking',
    text: `SELECT b.user_id, b.event_id, b.quantity, b.status, e.status AS event_status
             FROM bookings b JOIN events e ON e.id = b.event_id WHERE b.id = $1`,
    values: [bookingId],
  });
  if (!b) return undefined;
  const { rows: scans } = await pool.query<{ ticket_id: string; scanned_at: Date; gate: string }>({
    name: 'tickets.read-checkins',
    text: 'SELECT ticket_id, scanned_at, gate FROM checkins WHERE booking_id = $1',
    values: [bookingId],
  });
  const scanned = new Map(scans.map((s) => [s.ticket_id, s]));
  const revoked = b.status !== 'confirmed' || b.event_status === 'cancelled';
  const codes = await codesFor(keys, b.event_id, bookingId, b.quantity);
  return {
    userId: b.user_id,
    eventId: b.event_id,
    items: codes.map(({ id, seq, code }) => {
      const scan = scanned.get(id);
      return {
        id,
        bookingId,
        eventId: b.event_id,
        seq,
        code,
        status: scan ? 'checked_in' : revoked ? 'revoked' : 'valid',
        checkedInAt: scan?.scanned_at.toISOString() ?? null,
        gate: scan?.gate ?? null,
      };
    }),
  };
}
