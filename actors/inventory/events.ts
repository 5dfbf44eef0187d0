// Event use cases: create, read, list, edit, cancel. Writes take the event row
// lock and bump the version like bookings do, so they interleave safely with
// batches.
import type { Pool, PoolClient } from 'pg';
import {
  inventory,
  ok,
  refuse,
  type CallContext,
  type CreateEvent,
  type Event,
  type EventPage,
  type EventRef,
  type ListEvents,
  type Outcome,
  type UpdateEvent,
} from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { claimKeys, requestHash, storeOutcomes } from '../../platform/idempotency.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { HOLD_COLUMNS, toHold, type HoldRow } from '../../platform/seat-rows.js';
import {
  changeOf,
  EVENT_COLUMNS,
  everySeatBack,
  insertEvent,
  lockEvent,
  readEvent,
  seatsTaken,
  toEvent,
  writeEvent,
  type EventRow,
} from '../../platform/event-row.js';
import { cancelEventBookings, toBooking } from '../../platform/booking-record.js';
import {
  boundaryAtOrBefore,
  checkRules,
  isDynamic,
  isRefusal,
  storePolicy,
  type CheckedRules,
  type PricingDefaults,
} from '../../platform/pricing-policy.js';
import { waitlistDemand } from './seats.js';
import { countCancellations } from './metrics.js';

const DEFAULT_CURRENCY = 'EUR';
const DEFAULT_MAX_TICKETS = 10;

const adminOnly = (ctx: CallContext): Outcome<never> | undefined =>
  ctx.role === 'admin' ? undefined : refuse('FORBIDDEN', 'only admins manage events');

function checkTimes(startsAt: string, endsAt: string | null | undefined): Outcome<never> | undefined {
  if (Date.parse(startsAt) <= Date.now()) return refuse('VALIDATION_FAILED', 'startsAt must be in the future');
  if (endsAt && Date.parse(endsAt) <= Date.parse(startsAt))
    return refuse('VALIDATION_FAILED', 'endsAt must be after startsAt');
  return undefined;
}

export async function createEvent(
  pool: Pool,
  shardCount: number,
  req: CreateEvent,
  ctx: CallContext,
  pricingDefaults: PricingDefaults,
): Promise<Outcome<Event>> {
  const refused = adminOnly(ctx) ?? checkTimes(req.startsAt, req.endsAt);
  if (refused) return refused;
  // The event's price is the base its pricing policy starts from.
  const pricing: Outcome<never> | CheckedRules | undefined =
    req.pricing && checkRules(req.pricing, req.price, pricingDefaults);
  if (pricing && isRefusal(pricing)) return pricing;
  return inTransaction(pool, async (client) => {
    const key =
      ctx.idempotencyKey && ctx.userId
        ? { userId: ctx.userId, key: ctx.idempotencyKey, hash: requestHash(inventory.createEvent, req) }
        : undefined;
    if (key) {
      const [replay] = await claimKeys(client, [key]);
      if (replay) return replay as Outcome<Event>;
    }
    const row = await insertEvent(client, {
      name: req.name,
      description: req.description ?? '',
      venue: req.venue,
      starts_at: new Date(req.startsAt),
      ends_at: req.endsAt ? new Date(req.endsAt) : null,
      capacity: req.capacity,
      price: req.price,
      currency: req.currency ?? DEFAULT_CURRENCY,
      max_tickets_per_user: req.maxTicketsPerUser ?? DEFAULT_MAX_TICKETS,
    });
    const event = toEvent(row);
    if (pricing) {
      const lastTick = boundaryAtOrBefore(row.created_at.getTime(), pricing.interval_s);
      await storePolicy(
        client,
        event.id,
        pricing,
        new Date(lastTick),
        `${pricing.strategy} pricing set with the event`,
      );
    }
    await recordEvents(client, shardCount, [domainEvent('event.created', changeOf(row, ctx.requestId), event)]);
    const outcome = ok(event, 201);
    if (key) await storeOutcomes(client, [{ req: key, outcome }]);
    return outcome;
  });
}

export async function getEvent(pool: Pool, { eventId }: EventRef): Promise<Outcome<Event>> {
  const row = await readEvent(pool, eventId);
  return row ? ok(toEvent(row)) : refuse('NOT_FOUND', 'event not found');
}

export async function listEvents(pool: Pool, req: ListEvents): Promise<Outcome<EventPage>> {
  const limit = req.limit ?? 20;
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  if (req.q) {
    const pattern = `%${req.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(`(name ILIKE ${bind(pattern)} OR venue ILIKE $${params.length})`);
  }
  if (req.from) where.push(`starts_at >= ${bind(req.from)}`);
  if (req.to) where.push(`starts_at < ${bind(req.to)}`);
  if (req.status) where.push(`status = ${bind(req.status)}`);
  if (req.venue) where.push(`lower(venue) = lower(${bind(req.venue)})`);
  if (req.cursor) {
    const key = decodeCursor(req.cursor, ['timestamp', 'uuid']);
    if (!key) return refuse('VALIDATION_FAILED', 'cursor is not valid: pass nextCursor from a previous page unchanged');
    where.push(`(starts_at, id) > (${bind(key[0])}::timestamptz, ${bind(key[1])}::uuid)`);
  }
  const { rows } = await pool.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY starts_at, id LIMIT ${bind(limit + 1)}`,
    params,
  );
  const items = rows.slice(0, limit).map(toEvent);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.startsAt, last.id]) : null });
}

/** An admin's change to one event, made under its row lock. */
async function writeLockedEvent(
  pool: Pool,
  eventId: string,
  ctx: CallContext,
  write: (client: PoolClient, row: EventRow) => Promise<Outcome<Event>>,
): Promise<Outcome<Event>> {
  const refused = adminOnly(ctx);
  if (refused) return refused;
  return inTransaction(pool, async (client) => {
    const row = await lockEvent(client, eventId);
    return row ? write(client, row) : refuse('NOT_FOUND', 'event not found');
  });
}

export async function updateEvent(
  pool: Pool,
  shardCount: number,
  { eventId, changes }: UpdateEvent,
  ctx: CallContext,
): Promise<Outcome<Event>> {
  return writeLockedEvent(pool, eventId, ctx, async (client, row) => {
    if (row.status !== 'scheduled') return refuse('EVENT_NOT_EDITABLE', `event is ${row.status}`);
    if (changes.price !== undefined && changes.price !== row.price && (await isDynamic(client, eventId))) {
      return refuse(
        'PRICE_IS_DYNAMIC',
        'dynamic pricing sets this price; change its policy (PUT /v1/events/:id/pricing) instead',
      );
    }
    const startsAt = changes.startsAt ?? row.starts_at.toISOString();
    const endsAt = changes.endsAt !== undefined ? changes.endsAt : (row.ends_at?.toISOString() ?? null);
    if (changes.startsAt !== undefined || changes.endsAt !== undefined) {
      const bad = checkTimes(startsAt, endsAt);
      if (bad) return bad;
    }
    // Seats sold or held for the waitlist stay where they are; only what is on sale moves.
    const taken = seatsTaken(row);
    const capacity = changes.capacity ?? row.capacity;
    if (capacity < taken) return refuse('CAPACITY_BELOW_SOLD', `${taken} seats are already sold or held`);
    // Seats added while people wait go to the waitlist first, like returned seats.
    const added = capacity - row.capacity;
    const toWaitlist = added > 0 && (await waitlistDemand(client, eventId)) ? added : 0;
    const after = await writeEvent(client, row, {
      seats: { available: added - toWaitlist, setAside: toWaitlist },
      set: {
        name: changes.name ?? row.name,
        description: changes.description ?? row.description,
        venue: changes.venue ?? row.venue,
        starts_at: new Date(startsAt),
        ends_at: endsAt === null ? null : new Date(endsAt),
        capacity,
        price: changes.price ?? row.price,
        currency: changes.currency ?? row.currency,
        max_tickets_per_user: changes.maxTicketsPerUser ?? row.max_tickets_per_user,
      },
    });
    const event = toEvent(after);
    const change = changeOf(after, ctx.requestId);
    await recordEvents(client, shardCount, [
      domainEvent('event.updated', change, event),
      ...(toWaitlist > 0
        ? [domainEvent('seats.released', change, { quantity: added, reason: 'capacity-raised', toWaitlist })]
        : []),
    ]);
    return ok(event);
  });
}

/** Cancels the event and every confirmed booking of it, in one transaction. Cancelling twice is harmless. */
export async function cancelEvent(
  pool: Pool,
  shardCount: number,
  { eventId }: EventRef,
  ctx: CallContext,
): Promise<Outcome<Event>> {
  let cancelled = 0;
  const outcome = await writeLockedEvent(pool, eventId, ctx, async (client, row) => {
    if (row.status === 'cancelled') return ok(toEvent(row));
    if (row.status === 'completed') return refuse('EVENT_NOT_EDITABLE', 'event is completed');
    const bookings = await cancelEventBookings(client, eventId);
    const holds = await client.query<HoldRow>(
      `UPDATE holds SET status = 'released', updated_at = now() WHERE event_id = $1 AND status = 'active'
       RETURNING ${HOLD_COLUMNS}`,
      [eventId],
    );
    const after = await writeEvent(client, row, { seats: everySeatBack(row), set: { status: 'cancelled' } });
    const event = toEvent(after);
    const change = changeOf(after, ctx.requestId);
    // Bookings and holds first, so a consumer that sees event.cancelled has seen what it ended.
    await recordEvents(client, shardCount, [
      ...bookings.map((b) => domainEvent('booking.cancelled', change, toBooking(b))),
      ...holds.rows.map((h) => domainEvent('hold.released', change, toHold(h))),
      domainEvent('event.cancelled', change, event),
    ]);
    cancelled = bookings.length;
    return ok(event);
  });
  if (outcome.ok) countCancellations(cancelled, 'event');
  return outcome;
}
