// The inventory actor: owns the events of its shards. It answers the
// `inventory` operations of the protocol (events.*, bookings.*, holds.confirm,
// ping), applies the three booking locks (Redis per user+event, the event row
// lock, the version check), and announces every change as a domain event
// through the outbox, relayed to JetStream right after the commit.
import { threadId } from 'node:worker_threads';
import {
  inventory,
  LinkSigner,
  ok,
  refuse,
  shardOf,
  type Book,
  type Booking,
  type CallContext,
  type Event,
  type HoldLookup,
  type Outcome,
} from '../../protocol/index.js';
import type { HandlerMeta, StartActor } from '../../platform/actor.js';
import { requestHash } from '../../platform/idempotency.js';
import { OutboxRelay, relayOptions } from '../../platform/outbox-relay.js';
import { openPostgres, openRedis } from '../../platform/resources.js';
import { pricingDefaults } from '../../platform/pricing-policy.js';
import { bookBatch, type BookRequest } from './book.js';
import { BookingBatcher, runOneSafely, type Gate } from './booking-batcher.js';
import { BookingLocks, lockOwner } from './booking-lock.js';
import { cancelBooking, getBooking, listBookings } from './bookings.js';
import { cancelEvent, createEvent, getEvent, listEvents, updateEvent } from './events.js';
import { confirmHold, holdOwner, readHold } from './holds.js';
import { batchSizes, countBooking, countCancellations, lockWaitSeconds, unlockedWriteConflicts } from './metrics.js';

export const start: StartActor<'inventory'> = async ({ config, log, shards, nc, pressure }) => {
  const pool = openPostgres(config, log);
  const redis = openRedis(config, log);
  const relay = new OutboxRelay(pool, nc.jetstream(), shards, log, relayOptions(config)).start();
  const locks = new BookingLocks(redis, config.lockTtlMs, config.lockWaitMs, lockOwner(process.pid, threadId));
  // Releases are not awaited before replying (the client need not wait for
  // Redis), but stop() waits for them so no lock outlives a clean shutdown.
  const releasing = new Set<Promise<unknown>>();
  const batch = (eventId: string, reqs: readonly BookRequest[]) => {
    batchSizes.observe(reqs.length);
    return bookBatch(pool, config.shards, eventId, reqs, () => unlockedWriteConflicts.inc());
  };
  const batcher = new BookingBatcher(batch, config.batchMax, log);
  const pricing = pricingDefaults(config);

  /** Publishes what a write committed: the event's shard, which may not be one this thread polls. */
  const announced = async <T>(outcome: Promise<Outcome<T>>, eventOf: (value: T) => string): Promise<Outcome<T>> => {
    const result = await outcome;
    if (result.ok) relay.kick([shardOf(eventOf(result.value), config.shards)]);
    return result;
  };
  const ofBooking = (b: Booking): string => b.eventId;
  const ofEvent = (e: Event): string => e.id;

  /**
   * Runs `work` under the user's Redis booking lock for the event (layer one). `work` starts at once
   * with the lock's gate: null once the lock is held, or the refusal to answer instead. It may wait
   * for its turn meanwhile (the batcher does), so the lock's round trip overlaps that wait, but it
   * decides nothing before the gate opens.
   */
  const underLock = async <T>(
    userId: string,
    eventId: string,
    meta: HandlerMeta,
    work: (gate: Gate) => Promise<Outcome<T>>,
  ): Promise<Outcome<T>> => {
    const waited = lockWaitSeconds.startTimer();
    const taking = locks.acquire(userId, eventId);
    const gate = taking.then(
      (token) => {
        waited({ outcome: token ? 'acquired' : 'timeout' });
        return token
          ? null
          : refuse('BOOKING_IN_PROGRESS', 'another booking of yours for this event is in progress; retry shortly');
      },
      (err: unknown) => {
        meta.log.warn({ err }, 'booking lock not taken');
        return refuse('UNAVAILABLE', 'booking could not be started; retry with the same Idempotency-Key');
      },
    );
    try {
      return await work(gate);
    } finally {
      const token = await taking.catch(() => null);
      if (token) {
        const released = locks
          .release(userId, eventId, token)
          .catch((err: unknown) => meta.log.warn({ err }, 'lock release failed'))
          .finally(() => releasing.delete(released));
        releasing.add(released);
      }
    }
  };

  /** Runs `work` once the gate opens, or answers the gate's refusal. */
  const afterGate = async <T>(gate: Gate, work: () => Promise<Outcome<T>>): Promise<Outcome<T>> =>
    (await gate) ?? work();

  const book = async (req: Book, ctx: CallContext, meta: HandlerMeta) => {
    if (!ctx.userId) return refuse('UNAUTHENTICATED', 'sign in to book');
    const userId = ctx.userId;
    const request: BookRequest = {
      userId,
      eventId: req.eventId,
      quantity: req.quantity,
      requestId: ctx.requestId,
      idempotency: ctx.idempotencyKey
        ? { userId, key: ctx.idempotencyKey, hash: requestHash(inventory.book, req) }
        : undefined,
    };
    // Background actors of this process wait while bookings are in flight.
    pressure.begin();
    try {
      const outcome = await announced(
        underLock(userId, req.eventId, meta, (gate) =>
          config.batching
            ? batcher.submit(request, gate)
            : afterGate(gate, () => runOneSafely(batch, req.eventId, request, meta.log)),
        ),
        ofBooking,
      );
      countBooking(outcome, 'direct');
      return outcome;
    } finally {
      pressure.end();
    }
  };

  const confirm = async (req: { holdId: string }, ctx: CallContext, meta: HandlerMeta) => {
    if (!ctx.userId) return refuse('UNAUTHENTICATED', 'sign in to confirm a hold');
    const owner = await holdOwner(pool, req.holdId);
    if (!owner || owner.userId !== ctx.userId) return refuse('NOT_FOUND', 'hold not found');
    const userId = ctx.userId;
    const outcome = await announced(
      underLock(userId, owner.eventId, meta, (gate) =>
        afterGate(gate, () => confirmHold(pool, config.shards, req, { ...ctx, userId })),
      ),
      ofBooking,
    );
    countBooking(outcome, 'hold');
    return outcome;
  };

  const cancel = async (req: { bookingId: string }, ctx: CallContext) => {
    const outcome = await announced(cancelBooking(pool, config.shards, req, ctx), ofBooking);
    if (outcome.ok) countCancellations(1, 'booking');
    return outcome;
  };

  const links = config.ticketSecret ? new LinkSigner(config.ticketSecret) : undefined;
  /** The hold page's read: the owner, an admin, or the signed link from the offer mail. */
  const getHold = async (req: HoldLookup, ctx: CallContext) => {
    const hold = await readHold(pool, req.holdId);
    const allowed =
      hold && (hold.userId === ctx.userId || ctx.role === 'admin' || links?.check('hold', req.holdId, req.link));
    return allowed ? ok(hold) : refuse('NOT_FOUND', 'hold not found');
  };

  return {
    handlers: {
      createEvent: (req, ctx) => announced(createEvent(pool, config.shards, req, ctx, pricing), ofEvent),
      listEvents: (req) => listEvents(pool, req),
      getEvent: (req) => getEvent(pool, req),
      updateEvent: (req, ctx) => announced(updateEvent(pool, config.shards, req, ctx), ofEvent),
      cancelEvent: (req, ctx) => announced(cancelEvent(pool, config.shards, req, ctx), ofEvent),
      book: book,
      getBooking: (req, ctx) => getBooking(pool, req, ctx),
      listBookings: (req, ctx) => listBookings(pool, req, ctx),
      cancelBooking: cancel,
      confirmHold: confirm,
      getHold: getHold,
      ping: async (_req, _ctx, meta) => {
        await pool.query('SELECT 1');
        return ok({ kind: 'inventory', shard: meta.shard, thread: threadId });
      },
    },
    async stop() {
      await Promise.all(releasing);
      await relay.stop();
      await pool.end();
      redis.disconnect();
    },
  };
};
