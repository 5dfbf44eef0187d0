// The waitlist use cases a person (or an admin) asks for: join, see my entry,
// leave, list the queue, set an entry's priority tier. Each runs under the
// event row lock, so joining and a cancellation never cross: either the
// cancellation sees the new entry and sets its seats aside, or the join sees
// the seats on sale and is refused.
import type { PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  ok,
  refuse,
  waitlist,
  type CallContext,
  type JoinWaitlist,
  type ListWaitlist,
  type Outcome,
  type SetPriority,
  type WaitlistEntry,
  type WaitlistPage,
} from '../../protocol/index.js';
import { encodeCursor } from '../../platform/cursor.js';
import { claimKeys, requestHash, storeOutcomes } from '../../platform/idempotency.js';
import { domainEvent, type NewDomainEvent } from '../../platform/outbox.js';
import { offerSetAside, positionsChanged, type OfferPolicy } from './offers.js';
import { HOLD_COLUMNS, toHold, type HoldRow } from '../../platform/seat-rows.js';
import { entryOfUser, positionOf, queue, readEntry, toEntry } from './rows.js';
import { changeOf, lockEvent, writeEvent, type EventRow } from '../../platform/event-row.js';
import { overLimit, ticketsHeld } from '../../platform/booking-record.js';

/** What a use case did: its answer, and the domain events to record with it. */
export interface Done<T> {
  outcome: Outcome<T>;
  events: NewDomainEvent[];
  /** Holds created, so the actor can time their expiry. */
  holdsExpireAt?: string[];
}

const refused = <T>(outcome: Outcome<T>): Done<T> => ({ outcome, events: [] });

export async function join(
  client: PoolClient,
  req: JoinWaitlist,
  ctx: CallContext & { userId: string },
  policy: OfferPolicy,
): Promise<Done<WaitlistEntry>> {
  const event = await lockEvent(client, req.eventId);
  if (!event) return refused(refuse('NOT_FOUND', 'event not found'));
  const key = ctx.idempotencyKey
    ? { userId: ctx.userId, key: ctx.idempotencyKey, hash: requestHash(waitlist.join, req) }
    : undefined;
  if (key) {
    const [replay] = await claimKeys(client, [key]);
    if (replay) return refused(replay as Outcome<WaitlistEntry>);
  }
  const done = await admit(client, event, req, ctx, policy);
  if (key) await storeOutcomes(client, [{ req: key, outcome: done.outcome }]);
  return done;
}

async function admit(
  client: PoolClient,
  event: EventRow,
  req: JoinWaitlist,
  ctx: CallContext & { userId: string },
  policy: OfferPolicy,
): Promise<Done<WaitlistEntry>> {
  if (event.status !== 'scheduled' || !event.open)
    return refused(
      refuse('EVENT_NOT_BOOKABLE', `event is ${event.status === 'scheduled' ? 'already started' : event.status}`),
    );
  if (event.available > 0)
    return refused(refuse('SEATS_AVAILABLE', `${event.available} seats are on sale; book them instead`));
  const owned = await ticketsHeld(client, event.id, [ctx.userId]);
  const limit = overLimit(owned.get(ctx.userId) ?? 0, req.quantity, event.max_tickets_per_user);
  if (limit) return refused(refuse('LIMIT_EXCEEDED', limit));
  const live = await entryOfUser(client, event.id, ctx.userId);
  if (live && (live.status === 'waiting' || live.status === 'offered'))
    return refused(refuse('ALREADY_ON_WAITLIST', 'you are already on this waitlist'));
  const id = uuidv7();
  await client.query('INSERT INTO waitlist_entries (id, event_id, user_id, quantity) VALUES ($1, $2, $3, $4)', [
    id,
    event.id,
    ctx.userId,
    req.quantity,
  ]);
  const joined = (await readEntry(client, id)) as WaitlistEntry;
  const events: NewDomainEvent[] = [
    domainEvent(
      'waitlist.joined',
      { eventId: event.id, version: event.version, availability: null, requestId: ctx.requestId },
      joined,
    ),
  ];
  // Seats may already be set aside, saved up for a party that did not fit: the newcomer may.
  const offered = await offerSetAside(client, event, policy, ctx.requestId);
  const entry = offered.holds.some((h) => h.entryId === id) ? ((await readEntry(client, id)) as WaitlistEntry) : joined;
  return {
    outcome: ok(entry, 201),
    events: [...events, ...offered.events],
    holdsExpireAt: offered.holds.map((h) => h.expiresAt),
  };
}

export async function mine(client: PoolClient, eventId: string, userId: string): Promise<Outcome<WaitlistEntry>> {
  const row = await entryOfUser(client, eventId, userId);
  return row ? ok(toEntry(row, await positionOf(client, row))) : refuse('NOT_FOUND', 'you are not on this waitlist');
}

/** Leaving gives back an offered hold at once: its seats go to the next in line. */
export async function leave(
  client: PoolClient,
  eventId: string,
  ctx: CallContext & { userId: string },
  policy: OfferPolicy,
): Promise<Done<Record<string, never>>> {
  const event = await lockEvent(client, eventId);
  if (!event) return refused(refuse('NOT_FOUND', 'event not found'));
  const row = await entryOfUser(client, eventId, ctx.userId);
  if (!row || (row.status !== 'waiting' && row.status !== 'offered'))
    return refused(refuse('NOT_FOUND', 'you are not on this waitlist'));
  await client.query(`UPDATE waitlist_entries SET status = 'left', updated_at = now() WHERE id = $1`, [row.id]);
  const events: NewDomainEvent[] = [];
  let after = event;
  const released = await client.query<HoldRow>(
    `UPDATE holds SET status = 'released', updated_at = now() WHERE entry_id = $1 AND status = 'active'
     RETURNING ${HOLD_COLUMNS}`,
    [row.id],
  );
  const hold = released.rows[0];
  if (hold) {
    after = await writeEvent(client, event, { seats: { held: -hold.quantity, setAside: hold.quantity } });
    const change = changeOf(after, ctx.requestId);
    events.push(
      domainEvent('hold.released', change, toHold(hold)),
      domainEvent('seats.released', change, {
        quantity: hold.quantity,
        reason: 'hold-released',
        toWaitlist: hold.quantity,
      }),
    );
  }
  const left = (await readEntry(client, row.id)) as WaitlistEntry;
  const change = { eventId, version: after.version, availability: null, requestId: ctx.requestId };
  events.push(domainEvent('waitlist.changed', change, left));
  const offered = await offerSetAside(client, after, policy, ctx.requestId);
  if (row.status === 'waiting' && offered.holds.length === 0) events.push(await positionsChanged(client, change));
  return {
    outcome: ok({}, 204),
    events: [...events, ...offered.events],
    holdsExpireAt: offered.holds.map((h) => h.expiresAt),
  };
}

export async function list(client: PoolClient, req: ListWaitlist, afterId?: string): Promise<Outcome<WaitlistPage>> {
  const limit = req.limit ?? 20;
  const rows = await queue(client, req.eventId, limit + 1, afterId);
  const first = rows[0] ? ((await positionOf(client, rows[0])) ?? 1) : 1;
  const items = rows.slice(0, limit).map((r, i) => toEntry(r, first + i));
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return ok({ items, nextCursor: last ? encodeCursor([last.id]) : null });
}

export async function setPriority(
  client: PoolClient,
  req: SetPriority,
  requestId: string,
): Promise<Done<WaitlistEntry>> {
  const event = await lockEvent(client, req.eventId);
  if (!event) return refused(refuse('NOT_FOUND', 'event not found'));
  const { rowCount } = await client.query(
    `UPDATE waitlist_entries SET priority = $3, updated_at = now() WHERE id = $1 AND event_id = $2 AND status IN ('waiting', 'offered')`,
    [req.entryId, req.eventId, req.priority],
  );
  if (rowCount !== 1) return refused(refuse('NOT_FOUND', 'no live waitlist entry with that id for this event'));
  const entry = (await readEntry(client, req.entryId)) as WaitlistEntry;
  const change = { eventId: req.eventId, version: event.version, availability: null, requestId };
  return {
    outcome: ok(entry),
    events: [domainEvent('waitlist.changed', change, entry), await positionsChanged(client, change)],
  };
}
