// Layers two and three of the booking protection, for a batch of requests
// on one event: one transaction, one row lock (SELECT ... FOR UPDATE), one
// version-checked update, one commit. Each request is still checked and
// answered on its own, in arrival order.
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ok, refuse, type Booking, type Outcome } from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { claimKeys, storeOutcomes, type KeyedRequest } from '../../platform/idempotency.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { availabilityOf } from '../../platform/seat-rows.js';

export interface BookRequest {
  userId: string;
  eventId: string;
  quantity: number;
  requestId: string;
  idempotency?: KeyedRequest;
}

interface LockedEvent {
  capacity: number;
  available: number;
  held: number;
  set_aside: number;
  price: number;
  currency: string;
  max_tickets_per_user: number;
  status: string;
  open: boolean;
  version: number;
}

/** Thrown when the version check fails: the batch rolls back and runs again. */
export class VersionConflict extends Error {}

export async function bookBatch(pool: Pool, shardCount: number, eventId: string, reqs: readonly BookRequest[]): Promise<Outcome<Booking>[]> {
  return inTransaction(pool, async (client) => {
    const locked = await client.query<LockedEvent>(
      { name: 'inventory.book.lock-event', text: `SELECT capacity, available, held, set_aside, price, currency, max_tickets_per_user, status, starts_at > now() AS open, version
       FROM events WHERE id = $1 FOR UPDATE`, values: [eventId] });
    const event = locked.rows[0];
    if (!event) return reqs.map(() => refuse('NOT_FOUND', 'event not found'));

    const outcomes: (Outcome<Booking> | null)[] = reqs.map(() => null);
    const keyed = reqs.flatMap((r, i) => (r.idempotency ? [{ i, key: r.idempotency }] : []));
    const replays = await claimKeys(client, keyed.map((k) => k.key));
    keyed.forEach((k, j) => { outcomes[k.i] = replays[j] as Outcome<Booking> | null; });

    const owned = await ticketsHeld(client, eventId, reqs.filter((_, i) => outcomes[i] === null).map((r) => r.userId));
    let available = event.available;
    const accepted: { i: number; requestId: string; booking: Booking }[] = [];
    const now = new Date().toISOString();
    reqs.forEach((r, i) => {
      if (outcomes[i] !== null) return;
      const already = owned.get(r.userId) ?? 0;
      if (event.status !== 'scheduled' || !event.open) {
        outcomes[i] = refuse('EVENT_NOT_BOOKABLE', `event is ${event.status === 'scheduled' ? 'already started' : event.status}`);
      } else if (r.quantity > event.max_tickets_per_user) {
        outcomes[i] = refuse('VALIDATION_FAILED', `quantity must be from 1 to ${event.max_tickets_per_user} for this event`);
      } else if (already + r.quantity > event.max_tickets_per_user) {
        outcomes[i] = refuse('LIMIT_EXCEEDED', `you hold ${already} of at most ${event.max_tickets_per_user} tickets for this event`);
      } else if (r.quantity > available) {
        outcomes[i] = refuse('SOLD_OUT', available === 0 ? 'sold out' : `only ${available} seats left`);
      } else {
        available -= r.quantity;
        owned.set(r.userId, already + r.quantity);
        const booking: Booking = {
          id: uuidv7(), eventId, userId: r.userId, quantity: r.quantity, unitPrice: event.price,
          totalPrice: event.price * r.quantity, currency: event.currency, status: 'confirmed', createdAt: now, cancelledAt: null,
        };
        accepted.push({ i, requestId: r.requestId, booking });
        outcomes[i] = ok(booking, 201);
      }
    });

    if (accepted.length > 0) {
      await commitSeats(client, eventId, event, accepted.map((a) => a.booking));
      const after = availabilityOf({ ...event, available });
      await recordEvents(client, shardCount, accepted.map(({ requestId, booking }) =>
        domainEvent('booking.confirmed', { eventId, version: event.version + 1, availability: after, requestId }, booking)));
    }
    await storeOutcomes(client, keyed
      .filter((_, j) => replays[j] === null)
      .map((k) => ({ req: k.key, outcome: outcomes[k.i] as Outcome<unknown> })));
    return outcomes as Outcome<Booking>[];
  });
}

async function ticketsHeld(client: PoolClient, eventId: string, userIds: string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await client.query<{ user_id: string; confirmed: number }>(
    { name: 'inventory.book.tickets-held', text: 'SELECT user_id, confirmed FROM event_user_tickets WHERE event_id = $1 AND user_id = ANY($2::uuid[])', values: [eventId, userIds] });
  return new Map(rows.rows.map((r) => [r.user_id, r.confirmed]));
}

async function commitSeats(client: PoolClient, eventId: string, event: LockedEvent, bookings: Booking[]): Promise<void> {
  const [first] = bookings;
  if (!first) return;
  await client.query(
    { name: 'inventory.book.insert-bookings', text: `INSERT INTO bookings (id, event_id, user_id, quantity, unit_price, total_price, currency, status, created_at)
     SELECT id, $1, user_id, quantity, $2, quantity * $2, $3, 'confirmed', $4
     FROM unnest($5::uuid[], $6::uuid[], $7::int[]) AS b(id, user_id, quantity)`, values: [eventId, event.price, event.currency, first.createdAt,
      bookings.map((b) => b.id), bookings.map((b) => b.userId), bookings.map((b) => b.quantity)] });
  await client.query(
    { name: 'inventory.book.add-tickets', text: `INSERT INTO event_user_tickets (event_id, user_id, confirmed)
     SELECT $1, user_id, sum(quantity) FROM unnest($2::uuid[], $3::int[]) AS t(user_id, quantity) GROUP BY user_id
     ON CONFLICT (event_id, user_id) DO UPDATE SET confirmed = event_user_tickets.confirmed + EXCLUDED.confirmed`, values: [eventId, bookings.map((b) => b.userId), bookings.map((b) => b.quantity)] });
  const sold = bookings.reduce((n, b) => n + b.quantity, 0);
  const updated = await client.query(
    { name: 'inventory.book.take-seats', text: `UPDATE events SET available = available - $2, version = version + 1, updated_at = now()
     WHERE id = $1 AND version = $3`, values: [eventId, sold, event.version] });
  if (updated.rowCount !== 1) throw new VersionConflict(`event ${eventId} changed under its row lock`);
}
