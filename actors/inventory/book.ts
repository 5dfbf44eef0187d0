// Layers two and three of the booking protection, for a batch of requests
// on one event. Each request is checked and answered on its own, in arrival
// order; the accepted ones are written in one statement: the event row's
// version-checked update, the bookings, their users' counts and the outbox
// row, the inserts only if the update matched.
//
// A batch without idempotency keys goes optimistically, in two round trips:
// the row and its users' counts read in one unlocked statement, then the write,
// which commits on its own. If the row moved in between (another writer
// committed), the write changes nothing and the batch runs again under the
// row lock. A batch with keys claims them in the booking's transaction, so it
// always runs under the lock: BEGIN, the row FOR UPDATE, the keys, the counts,
// the write, the outcomes, COMMIT.
import type { Pool, QueryConfig } from 'pg';
import { ok, refuse, type Booking, type Outcome } from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { assertMayCommit } from '../../platform/lease-deadlines.js';
import { claimKeys, storeOutcomes, type KeyedRequest } from '../../platform/idempotency.js';
import { domainEvent, outboxInsert } from '../../platform/outbox.js';
import { changeOf, eventUpdate, lockEvent, written, type EventRow } from '../../platform/event-row.js';
import { bookingInserts, eventWithTickets, newBooking, overLimit, ticketsHeld } from '../../platform/booking-record.js';
import { returnedRow, together } from '../../platform/sql-parts.js';

export interface BookRequest {
  userId: string;
  eventId: string;
  quantity: number;
  requestId: string;
  idempotency?: KeyedRequest;
}

/** `onConflict`: called when an unlocked write found the row moved and the batch runs again under the lock. */
export async function bookBatch(
  pool: Pool,
  shardCount: number,
  eventId: string,
  reqs: readonly BookRequest[],
  onConflict?: () => void,
): Promise<Outcome<Booking>[]> {
  if (!reqs.some((r) => r.idempotency)) {
    const outcomes = await bookUnlocked(pool, shardCount, eventId, reqs);
    if (outcomes) return outcomes;
    onConflict?.();
  }
  return bookLocked(pool, shardCount, eventId, reqs);
}

/** The optimistic path: the outcomes, or undefined when the row moved between the read and the write (nothing written). */
async function bookUnlocked(
  pool: Pool,
  shardCount: number,
  eventId: string,
  reqs: readonly BookRequest[],
): Promise<Outcome<Booking>[] | undefined> {
  const read = await eventWithTickets(
    pool,
    eventId,
    reqs.map((r) => r.userId),
  );
  if (!read) return reqs.map(() => refuse('NOT_FOUND', 'event not found'));
  const { outcomes, write } = decide(read.event, read.owned, reqs, shardCount);
  if (!write) return outcomes;
  // The statement commits on its own: the last moment this thread may still write for the event's shard.
  assertMayCommit();
  const { rows } = await pool.query<EventRow>(write);
  return rows[0] ? outcomes : undefined;
}

async function bookLocked(
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
    const { outcomes, write } = decide(event, owned, reqs, shardCount, replayOf);
    if (write) {
      const { rows } = await client.query<EventRow>(write);
      // No row written: not at the locked version. The throw rolls the transaction back.
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

/**
 * Each request's outcome against the row as read and the tickets its user
 * already holds, and the statement writing the accepted ones (none if none
 * was): the row's update checked against the version read, and the
 * bookings, counts and outbox row only if that update matched.
 */
function decide(
  event: EventRow,
  owned: Map<string, number>,
  reqs: readonly BookRequest[],
  shardCount: number,
  replayOf?: ReadonlyMap<number, Outcome<Booking> | null>,
): { outcomes: Outcome<Booking>[]; write?: QueryConfig } {
  let available = event.available;
  const accepted: { req: BookRequest; booking: Booking }[] = [];
  const now = new Date().toISOString();
  const outcomes = reqs.map((r, i): Outcome<Booking> => {
    const replay = replayOf?.get(i);
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
  if (accepted.length === 0) return { outcomes };

  // The row, the bookings, their users' counts and the outbox: one statement, one round trip.
  const { statement, after } = eventUpdate(event, { seats: { available: available - event.available } });
  const onlyIf = returnedRow(0);
  const announced = outboxInsert(
    shardCount,
    accepted.map(({ req, booking }) => domainEvent('booking.confirmed', changeOf(after, req.requestId), booking)),
    onlyIf,
  );
  const inserts = bookingInserts(
    accepted.map((a) => a.booking),
    { onlyIf },
  );
  return { outcomes, write: together('inventory.book-write', [statement, ...inserts, announced.statement], 0) };
}
