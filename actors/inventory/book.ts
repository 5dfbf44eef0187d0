// Layers two and three of the booking protection, for a batch of requests
// on one event: one transaction, one row lock (SELECT ... FOR UPDATE), one
// version-checked update, one commit. Each request is still checked and
// answered on its own, in arrival order.
import type { Pool } from 'pg';
import { ok, refuse, type Booking, type Outcome } from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { claimKeys, storeOutcomes, type KeyedRequest } from '../../platform/idempotency.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { changeOf, lockEvent, writeEvent } from '../../platform/event-row.js';
import { insertBookings, newBooking, overLimit, ticketsHeld } from '../../platform/booking-record.js';

export interface BookRequest {
  userId: string;
  eventId: string;
  quantity: number;
  requestId: string;
  idempotency?: KeyedRequest;
}

export async function bookBatch(
  pool: Pool,
  shardCount: number,
  eventId: string,
  reqs: readonly BookRequest[],
): Promise<Outcome<Booking>[]> {
  return inTransaction(pool, async (client) => {
    const event = await lockEvent(client, eventId);
    if (!event) return reqs.map(() => refuse('NOT_FOUND', 'event not found'));

    const keyed = reqs.flatMap((r, i) => (r.idempotency ? [{ i, key: r.idempotency }] : []));
    const replays = await claimKeys(
      client,
      keyed.map((k) => k.key),
    );
    const replayOf = new Map(keyed.map((k, j) => [k.i, replays[j] as Outcome<Booking> | null]));

    const owned = await ticketsHeld(
      client,
      eventId,
      reqs.filter((_, i) => !replayOf.get(i)).map((r) => r.userId),
    );
    let available = event.available;
    const accepted: { req: BookRequest; booking: Booking }[] = [];
    const now = new Date().toISOString();
    const outcomes = reqs.map((r, i): Outcome<Booking> => {
      const replay = replayOf.get(i);
      if (replay) return replay;
      const already = owned.get(r.userId) ?? 0;
      const limit = overLimit(already, r.quantity, event.max_tickets_per_user);
      if (event.status !== 'scheduled' || !event.open) {
        return refuse(
          'EVENT_NOT_BOOKABLE',
          `event is ${event.status === 'scheduled' ? 'already started' : event.status}`,
        );
      }
      if (r.quantity > event.max_tickets_per_user) {
        return refuse('VALIDATION_FAILED', `quantity must be from 1 to ${event.max_tickets_per_user} for this event`);
      }
      if (limit) return refuse('LIMIT_EXCEEDED', limit);
      if (r.quantity > available)
        return refuse('SOLD_OUT', available === 0 ? 'sold out' : `only ${available} seats left`);
      available -= r.quantity;
      owned.set(r.userId, already + r.quantity);
      const booking = newBooking(event, r.userId, r.quantity, now);
      accepted.push({ req: r, booking });
      return ok(booking, 201);
    });

    if (accepted.length > 0) {
      await insertBookings(
        client,
        accepted.map((a) => a.booking),
      );
      const after = await writeEvent(client, event, { seats: { available: available - event.available } });
      await recordEvents(
        client,
        shardCount,
        accepted.map(({ req, booking }) => domainEvent('booking.confirmed', changeOf(after, req.requestId), booking)),
      );
    }
    await storeOutcomes(
      client,
      keyed.flatMap((k) => {
        const outcome = outcomes[k.i];
        return replayOf.get(k.i) || !outcome ? [] : [{ req: k.key, outcome }];
      }),
    );
    return outcomes;
  });
}
