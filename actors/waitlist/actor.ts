// The waitlist actor: owns the waitlists of its shards. It answers the
// `waitlist` operations (join, mine, leave, list, priority, ping), reacts to
// inventory's domain events (seats released → offers as holds), and expires
// holds on time (the scheduler's hold sweep asks for the ones whose timer was
// lost). Every change it makes is announced through the outbox.
import { threadId } from 'node:worker_threads';
import type { PoolClient } from 'pg';
import { Counter } from 'prom-client';
import { ok, refuse, shardOf, type CallContext, type Outcome } from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { decodeCursor } from '../../platform/cursor.js';
import { recordEvents } from '../../platform/outbox.js';
import { OutboxRelay, relayOptions } from '../../platform/outbox-relay.js';
import { inTransaction, openPostgres } from '../../platform/resources.js';
import { recordDeadLetter } from '../../platform/dead-letters.js';
import { consumeShards } from '../../platform/shard-consumer.js';
import { join, leave, list, mine, setPriority, type Done } from './entries.js';
import { expireHolds } from './expiry.js';
import type { OfferPolicy } from './offers.js';
import { CONSUMER, react, REACTS_TO, reactsTo } from './reactions.js';

const offers = new Counter({
  name: 'evently_waitlist_offers_total',
  help: 'Holds offered to waitlisted people (counted after commit)',
});
/** Timers fire a little after expiry so the database agrees the hold ran out. */
const EXPIRY_SLACK_MS = 50;

export const start: StartActor<'waitlist'> = async ({ config, log, shards, nc }) => {
  const pool = openPostgres(config, log);
  const relay = new OutboxRelay(pool, nc.jetstream(), shards, log, relayOptions(config)).start();
  const policy: OfferPolicy = { holdSeconds: config.holdSeconds, maxSkips: config.waitlistMaxSkips };
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;

  /** Runs a use case in one transaction, records its events with it, then publishes and times new holds. */
  const run = async <T>(eventId: string, work: (client: PoolClient) => Promise<Done<T>>): Promise<Outcome<T>> => {
    const done = await inTransaction(pool, async (client) => {
      const result = await work(client);
      await recordEvents(client, config.shards, result.events);
      return result;
    });
    if (done.events.length > 0) relay.kick([shardOf(eventId, config.shards)]);
    for (const at of done.holdsExpireAt ?? []) expireAt(eventId, at);
    offers.inc(done.holdsExpireAt?.length ?? 0);
    return done.outcome;
  };

  const expireNow = (eventId: string, requestId: string) =>
    run(eventId, (client) => expireHolds(client, eventId, policy, requestId));
  const expire = (eventId: string) =>
    expireNow(eventId, `expiry-${eventId}`).catch((err: unknown) =>
      log.warn({ err, eventId }, "hold expiry failed; the scheduler's hold sweep will retry"),
    );

  function expireAt(eventId: string, at: string): void {
    if (stopping) return;
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        void expire(eventId);
      },
      Math.max(0, Date.parse(at) - Date.now()) + EXPIRY_SLACK_MS,
    );
    timers.add(timer);
  }

  // A seats.released with nothing for the waitlist is acknowledged without touching the database.
  const consumer = await consumeShards(
    nc,
    CONSUMER,
    shards,
    REACTS_TO,
    log,
    async (event) => {
      if (reactsTo(event)) await run(event.eventId, (client) => react(client, event, policy));
    },
    (d, kind) => recordDeadLetter(pool, d, kind),
  );

  const signedIn = (ctx: CallContext): (CallContext & { userId: string }) | undefined =>
    ctx.userId ? { ...ctx, userId: ctx.userId } : undefined;
  const needsUser = refuse('UNAUTHENTICATED', 'sign in to use the waitlist');

  return {
    handlers: {
      join: async (req, ctx) => {
        const who = signedIn(ctx);
        return who ? run(req.eventId, (client) => join(client, req, who, policy)) : needsUser;
      },
      mine: async (req, ctx) => {
        if (!ctx.userId) return needsUser;
        const userId = ctx.userId;
        const client = await pool.connect();
        try {
          return await mine(client, req.eventId, userId);
        } finally {
          client.release();
        }
      },
      leave: async (req, ctx) => {
        const who = signedIn(ctx);
        return who ? run(req.eventId, (client) => leave(client, req.eventId, who, policy)) : needsUser;
      },
      list: async (req, ctx) => {
        if (ctx.role !== 'admin') return refuse('FORBIDDEN', 'only admins list a waitlist');
        const key = req.cursor ? decodeCursor(req.cursor, ['uuid']) : undefined;
        if (req.cursor && !key) return refuse('VALIDATION_FAILED', 'cursor is not valid');
        const client = await pool.connect();
        try {
          return await list(client, req, key?.[0] as string | undefined);
        } finally {
          client.release();
        }
      },
      setPriority: async (req, ctx) =>
        ctx.role === 'admin'
          ? run(req.eventId, (client) => setPriority(client, req, ctx.requestId))
          : refuse('FORBIDDEN', 'only admins set waitlist priority'),
      // Asked by the scheduler's hold sweep for holds whose timer was lost with a thread. It only
      // does what the timer would have done, so it needs no role.
      expireHolds: async (req, ctx) => {
        const expired = await expireNow(req.eventId, ctx.requestId);
        return expired.ok ? ok({ expired: expired.value }) : expired;
      },
      ping: async (_req, _ctx, meta) => {
        await pool.query('SELECT 1');
        return ok({ kind: 'waitlist', shard: meta.shard, thread: threadId });
      },
    },
    async stop() {
      stopping = true;
      for (const t of timers) clearTimeout(t);
      await consumer.stop();
      await relay.stop();
      await pool.end();
    },
  };
};
