// Turning a waitlist hold into a booking. The seats are already counted out
// of `available` (they sit in `held`), so confirming moves them from held to
// sold under the same row lock and version check as any booking; the caller
// holds the user's Redis booking lock. A hold past its expiry is 410 even if
// the waitlist actor has not swept it yet: its seats belong to the next in line.
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ok, refuse, type Booking, type CallContext, type Hold, type HoldRef, type Outcome } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { claimKeys, requestHash, storeOutcomes } from '../../platform/idempotency.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import { availabilityOf, HOLD_COLUMNS, toHold, type HoldRow, type SeatCounts } from '../../platform/seat-rows.js';

/** The hold's event and owner, read before locking (the Redis lock is per user and event). */
export async function holdOwner(pool: Pool, holdId: string): Promise<{ eventId: string; userId: string } | undefined> {
  const { rows } = await pool.query<{ event_id: string; user_id: string }>('SELECT event_id, user_id FROM holds WHERE id = $1', [holdId]);
  return rows[0] ? { eventId: rows[0].event_id, userId: rows[0].user_id } : undefined;
}

/** A hold as its page shows it. */
export async function readHold(pool: Pool, holdId: string): Promise<Hold | undefined> {
  const { rows: [row] } = await pool.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [holdId]);
  return row && toHold(row);
}

interface LockedEvent extends SeatCounts {
  version: number;
  open: boolean;
  currency: string;
  max_tickets_per_user: number;
}

export async function confirmHold(pool: Pool, shardCount: number, req: HoldRef, ctx: CallContext & { userId: string }): Promise<Outcome<Booking>> {
  return inTransaction(pool, async (client) => {
    const key = ctx.idempotencyKey ? { userId: ctx.userId, key: ctx.idempotencyKey, hash: requestHash('holds.confirm', req) } : undefined;
    const { rows: [first] } = await client.query<{ event_id: string }>('SELECT event_id FROM holds WHERE id = $1', [req.holdId]);
    if (!first) return refuse('NOT_FOUND', 'hold not found');
    const locked = await client.query<LockedEvent>(
      `SELECT capacity, available, held, set_aside, price, currency, max_tickets_per_user, status, version, starts_at > now() AS open
       FROM events WHERE id = $1 FOR UPDATE`, [first.event_id]);
    const event = expectRow(locked.rows[0], 'inventory confirm: event lock');
    if (key) {
      const [replay] = await claimKeys(client, [key]);
      if (replay) return replay as Outcome<Booking>;
    }
    const { rows } = await client.query<HoldRow & { expired: boolean }>(
      `SELECT ${HOLD_COLUMNS}, expires_at <= now() AS expired FROM holds WHERE id = $1 FOR UPDATE`, [req.holdId]);
    const hold = expectRow(rows[0], 'inventory confirm: hold lock');
    const outcome = await (async (): Promise<Outcome<Booking>> => {
      if (hold.user_id !== ctx.userId) return refuse('NOT_FOUND', 'hold not found');
      if (hold.status === 'expired' || (hold.status === 'active' && hold.expired)) return refuse('HOLD_EXPIRED', `the hold expired at ${hold.expires_at.toISOString()}`);
      if (hold.status !== 'active') return refuse('HOLD_NOT_ACTIVE', `the hold is ${hold.status}`);
      if (event.status !== 'scheduled' || !event.open) return refuse('EVENT_NOT_BOOKABLE', `event is ${event.status === 'scheduled' ? 'already started' : event.status}`);
      const owned = await client.query<{ confirmed: number }>(
        'SELECT confirmed FROM event_user_tickets WHERE event_id = $1 AND user_id = $2', [hold.event_id, ctx.userId]);
      const already = owned.rows[0]?.confirmed ?? 0;
      if (already + hold.quantity > event.max_tickets_per_user) {
        return refuse('LIMIT_EXCEEDED', `you hold ${already} of at most ${event.max_tickets_per_user} tickets for this event`);
      }
      const booking: Booking = {
        id: uuidv7(), eventId: hold.event_id, userId: ctx.userId, quantity: hold.quantity, unitPrice: event.price,
        totalPrice: event.price * hold.quantity, currency: event.currency, status: 'confirmed', createdAt: new Date().toISOString(), cancelledAt: null,
      };
      await client.query(
        `INSERT INTO bookings (id, event_id, user_id, quantity, unit_price, total_price, currency, status, created_at, hold_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'confirmed', $8, $9)`,
        [booking.id, booking.eventId, booking.userId, booking.quantity, booking.unitPrice, booking.totalPrice, booking.currency, booking.createdAt, hold.id]);
      await client.query(
        `INSERT INTO event_user_tickets (event_id, user_id, confirmed) VALUES ($1, $2, $3)
         ON CONFLICT (event_id, user_id) DO UPDATE SET confirmed = event_user_tickets.confirmed + EXCLUDED.confirmed`,
        [hold.event_id, ctx.userId, hold.quantity]);
      const confirmed = await client.query<HoldRow>(
        `UPDATE holds SET status = 'confirmed', booking_id = $2, updated_at = now() WHERE id = $1 RETURNING ${HOLD_COLUMNS}`, [hold.id, booking.id]);
      const updated = await client.query<SeatCounts & { version: number }>(
        `UPDATE events SET held = held - $2, version = version + 1, updated_at = now() WHERE id = $1 AND version = $3
         RETURNING capacity, available, held, set_aside, price, status, version`, [hold.event_id, hold.quantity, event.version]);
      const row = updated.rows[0];
      if (!row) throw new Error(`event ${hold.event_id} changed under its row lock`);
      const change = { eventId: hold.event_id, version: row.version, availability: availabilityOf(row), requestId: ctx.requestId };
      await recordEvents(client, shardCount, [
        domainEvent('booking.confirmed', change, booking),
        domainEvent('hold.confirmed', change, toHold(expectRow(confirmed.rows[0], 'inventory confirm: hold update'))),
      ]);
      return ok(booking, 201);
    })();
    if (key) await storeOutcomes(client, [{ req: key, outcome }]);
    return outcome;
  });
}
