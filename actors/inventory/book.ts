// Layers two and three of the booking protection, for a batch of requests
// on one event: one transaction, one row lock (SELECT ... FOR UPDATE), one
// version-checked update written with the bookings and their outbox row in
// one statement, one commit. Each request is still checked and
// answered on its own, in arrival order.
import type { Pool } from 'pg';
import { ok, refuse, type Booking, type Outcome } from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { claimKeys, storeOutcomes, type KeyedRequest } from '../../platform/idempotency.js';
import { domainEvent, outboxInsert } from '../../platform/outbox.js';
import { changeOf, eventUpdate, lockEvent, written, type EventRow } from '../../platform/event-row.js';
import { bookingInserts, newBooking, overLimit, ticketsHeld } from '../../platform/booking-record.js';
import { together } from '../../platform/sql-parts.js';

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
      // Bookings, their users' counts, the event row and the outbox: one statement, one round trip.
      const { statement, after } = eventUpdate(event, { seats: { available: available - event.available } });
      const announced = outboxInsert(
        shardCount,
        accepted.map(({ req, booking }) => domainEvent('booking.confirmed', changeOf(after, req.requestId), booking)),
      );
      const inserts = bookingInserts(accepted.map((a) => a.booking));
      const { rows } = await client.query<EventRow>(
        together('inventory.book-write', [...inserts, statement, announced.statement], inserts.length),
      );
      // No row written: not at the locked version. The throw rolls the bookings and outbox row back too.
      written(event, rows[0]);
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
