// The booking's owner asks for the confirmation mail again (a lost mail, a
// new phone): the same template, planned as a new delivery (its own dedupe
// key), so it is sent, retried and dead-lettered like any other mail.
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ok, refuse, type BookingRef, type CallContext, type Outcome, type ResendReply } from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { writeDeliveries } from './deliveries.js';
import { eventLookup } from './reactions.js';

interface BookingRow {
  user_id: string;
  event_id: string;
  quantity: number;
  total_price: number;
  currency: string;
  status: string;
}

export async function resendTickets(pool: Pool, req: BookingRef, ctx: CallContext): Promise<Outcome<ResendReply>> {
  if (!ctx.userId) return refuse('UNAUTHENTICATED', 'sign in to have your tickets sent');
  return inTransaction(pool, async (client) => {
    const {
      rows: [b],
    } = await client.query<BookingRow>(
      'SELECT user_id, event_id, quantity, total_price, currency, status FROM bookings WHERE id = $1',
      [req.bookingId],
    );
    if (!b || b.user_id !== ctx.userId) return refuse('NOT_FOUND', 'booking not found');
    if (b.status !== 'confirmed') return refuse('TICKET_REVOKED', 'the booking was cancelled; its tickets are void');
    const found = await eventLookup(client)(b.event_id);
    if (!found) return refuse('NOT_FOUND', 'booking not found');
    const booking = { id: req.bookingId, quantity: b.quantity, totalPrice: b.total_price, currency: b.currency.trim() };
    const { written, skipped } = await writeDeliveries(client, [
      { cause: uuidv7(), template: 'booking-confirmed', userId: b.user_id, data: { event: found.event, booking } },
    ]);
    return ok({ queued: written > skipped.length }, 202);
  });
}
