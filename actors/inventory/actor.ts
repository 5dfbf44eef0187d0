// The inventory actor: owns the events of its shards. It answers the
// `inventory` operations of the protocol (events.*, bookings.*, ping) and
// applies the three booking locks: Redis per user+event, the event row lock,
// and the version check.
import { threadId } from 'node:worker_threads';
import { ok, refuse, type Book, type CallContext } from '../protocol/index.js';
import type { HandlerMeta, StartActor } from '../runtime/actor.js';
import { openPostgres, openRedis } from '../runtime/resources.js';
import { bookBatch, type BookRequest } from './book.js';
import { BookingBatcher, runSafely } from './booking-batcher.js';
import { BookingLocks, lockOwner } from './booking-lock.js';
import { cancelBooking, getBooking, listBookings } from './bookings.js';
import { cancelEvent, createEvent, getEvent, listEvents, updateEvent } from './events.js';
import { requestHash } from './idempotency.js';

export const start: StartActor = async ({ config, log }) => {
  const pool = openPostgres(config, log);
  const redis = openRedis(config, log);
  const locks = new BookingLocks(redis, config.lockTtlMs, config.lockWaitMs, lockOwner(process.pid, threadId));
  // Releases are not awaited before replying (the client need not wait for
  // Redis), but stop() waits for them so no lock outlives a clean shutdown.
  const releasing = new Set<Promise<unknown>>();
  const batcher = new BookingBatcher((eventId, reqs) => bookBatch(pool, eventId, reqs), config.batchMax, log);

  const book = async (req: Book, ctx: CallContext, meta: HandlerMeta) => {
    if (!ctx.userId) return refuse('UNAUTHENTICATED', 'sign in to book');
    const token = await locks.acquire(ctx.userId, req.eventId);
    if (!token) return refuse('BOOKING_IN_PROGRESS', 'another booking of yours for this event is in progress; retry shortly');
    const request: BookRequest = {
      userId: ctx.userId, eventId: req.eventId, quantity: req.quantity,
      idempotency: ctx.idempotencyKey ? { userId: ctx.userId, key: ctx.idempotencyKey, hash: requestHash('bookings.create', req) } : undefined,
    };
    try {
      return config.batching
        ? await batcher.submit(request)
        : (await runSafely((id, r) => bookBatch(pool, id, r), req.eventId, [request], meta.log))[0];
    } finally {
      const released = locks.release(ctx.userId, req.eventId, token)
        .catch((err) => meta.log.warn({ err }, 'lock release failed'))
        .finally(() => releasing.delete(released));
      releasing.add(released);
    }
  };

  return {
    handlers: {
      'events.create': (req, ctx) => createEvent(pool, req, ctx),
      'events.list': (req) => listEvents(pool, req),
      'events.get': (req) => getEvent(pool, req),
      'events.update': (req, ctx) => updateEvent(pool, req, ctx),
      'events.cancel': (req, ctx) => cancelEvent(pool, req, ctx),
      'bookings.create': book,
      'bookings.get': (req, ctx) => getBooking(pool, req, ctx),
      'bookings.list': (req, ctx) => listBookings(pool, req, ctx),
      'bookings.cancel': (req, ctx) => cancelBooking(pool, req, ctx),
      ping: async (_req, _ctx, meta) => {
        await pool.query('SELECT 1');
        return ok({ kind: 'inventory', shard: meta.shard, thread: threadId });
      },
    },
    async stop() {
      await Promise.all(releasing);
      await pool.end();
      redis.disconnect();
    },
  };
};
