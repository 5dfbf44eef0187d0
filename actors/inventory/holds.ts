// Turning a waitlist hold into a booking. The seats are already counted out
// of `available` (they sit in `held`), so confirming moves them from held to
// sold under the event's row lock, with the version check of any booking; the caller
// holds the user's Redis booking lock. A hold past its expiry is 410 even if
// the waitlist actor has not swept it yet: its seats belong to the next in line.
import type { Pool } from 'pg';
import {
  inventory,
  ok,
  refuse,
  type Booking,
  type CallContext,
  type Hold,
  type HoldRef,
  type Outcome,
} from '../../protocol/index.js';
import { claimKeys, requestHash, storeOutcomes } from '../../platform/idempotency.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import { HOLD_COLUMNS, toHold, type HoldRow } from '../../platform/seat-rows.js';
import { changeOf, lockEvent, writeEvent } from '../../platform/event-row.js';
import { insertBookings, newBooking, overLimit, ticketsHeld } from '../../platform/booking-record.js';
import { expectRow } from '../../platform/expect-row.js';

/** The hold's event and owner, read before locking (the Redis lock is per user and event). */
export async function holdOwner(pool: Pool, holdId: string): Promise<{ eventId: string; userId: string } | undefined> {
  const { rows } = await pool.query<{ event_id: string; user_id: string }>(
    'SELECT event_id, user_id FROM holds WHERE id = $1',
    [holdId],
  );
  return rows[0] ? { eventId: rows[0].event_id, userId: rows[0].user_id } : undefined;
}

/** A hold as its page shows it. */
export async function readHold(pool: Pool, holdId: string): Promise<Hold | undefined> {
  const {
    rows: [row],
  } = await pool.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [holdId]);
  return row && toHold(row);
}

export async function confirmHold(
  pool: Pool,
  shardCount: number,
  req: HoldRef,
  ctx: CallContext & { userId: string },
): Promise<Outcome<Booking>> {
  return inTransaction(pool, async (client) => {
    const key = ctx.idempotencyKey
      ? { userId: ctx.userId, key: ctx.idempotencyKey, hash: requestHash(inventory.confirmHold, req) }
      : undefined;
    const first = await client.query<{ event_id: string }>('SELECT event_id FROM holds WHERE id = $1', [req.holdId]);
    if (!first.rows[0]) return refuse('NOT_FOUND', 'hold not found');
    const event = await lockEvent(client, first.rows[0].event_id);
    if (!event) return refuse('NOT_FOUND', 'hold not found');
    if (key) {
      const [replay] = await claimKeys(client, [key]);
      if (replay) return replay as Outcome<Booking>;
    }
    const { rows } = await client.query<HoldRow & { expired: boolean }>(
      `SELECT ${HOLD_COLUMNS}, expires_at <= now() AS expired FROM holds WHERE id = $1 FOR UPDATE`,
      [req.holdId],
    );
    const hold = expectRow(rows[0], 'holds.confirm: the hold under its event lock');
    const outcome = await (async (): Promise<Outcome<Booking>> => {
      if (hold.user_id !== ctx.userId) return refuse('NOT_FOUND', 'hold not found');
      if (hold.status === 'expired' || (hold.status === 'active' && hold.expired))
        return refuse('HOLD_EXPIRED', `the hold expired at ${hold.expires_at.toISOString()}`);
      if (hold.status !== 'active') return refuse('HOLD_NOT_ACTIVE', `the hold is ${hold.status}`);
      if (event.status !== 'scheduled' || !event.open)
        return refuse(
          'EVENT_NOT_BOOKABLE',
          `event is ${event.status === 'scheduled' ? 'already started' : event.status}`,
        );
      const owned = await ticketsHeld(client, hold.event_id, [ctx.userId]);
      const limit = overLimit(owned.get(ctx.userId) ?? 0, hold.quantity, event.max_tickets_per_user);
      if (limit) return refuse('LIMIT_EXCEEDED', limit);
      const booking = newBooking(event, ctx.userId, hold.quantity, new Date().toISOString());
      await insertBookings(client, [booking], [hold.id]);
      const confirmed = await client.query<HoldRow>(
        `UPDATE holds SET status = 'confirmed', booking_id = $2, updated_at = now() WHERE id = $1 RETURNING ${HOLD_COLUMNS}`,
        [hold.id, booking.id],
      );
      const after = await writeEvent(client, event, { seats: { held: -hold.quantity } });
      const change = changeOf(after, ctx.requestId);
      await recordEvents(client, shardCount, [
        domainEvent('booking.confirmed', change, booking),
        domainEvent(
          'hold.confirmed',
          change,
          toHold(expectRow(confirmed.rows[0], 'holds.confirm: UPDATE … RETURNING')),
        ),
      ]);
      return ok(booking, 201);
    })();
    if (key) await storeOutcomes(client, [{ req: key, outcome }]);
    return outcome;
  });
}
