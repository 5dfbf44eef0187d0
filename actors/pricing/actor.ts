// The pricing actor: owns the prices of its shards' events. It answers the
// `pricing` operations (price.get, policy.set, history.list, ping), keeps
// each event's demand from the domain stream (durably, each message applied
// once, in runs), and evaluates dynamic policies at their interval boundaries. Every
// price change is written under the event row lock and announced as a
// price.changed domain event through the outbox.
import { threadId } from 'node:worker_threads';
import { ok, shardOf } from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { OutboxRelay, relayOptions } from '../../platform/outbox-relay.js';
import { inTransaction, openPostgres } from '../../platform/resources.js';
import { consumeShardsInBatches, freshEvents } from '../../platform/batch-consumer.js';
import { recordDeadLetter } from '../../platform/dead-letters.js';
import { DEMAND_EVENTS } from './demand.js';
import { setPolicy } from './policies.js';
import { countPriceChanges, type PriceMove } from './price-change.js';
import { listHistory, quote } from './reads.js';
import { dueEvents, reprice } from './reprice.js';
import { pricingDefaults } from '../../platform/pricing-policy.js';
import { recordDemand } from './store.js';
import { Watermarks } from './watermark.js';

export const CONSUMER = 'pricing';
const SWEEP_MS = 500;

export const start: StartActor<'pricing'> = async ({ config, log, shards, nc, yieldToForeground }) => {
  const pool = openPostgres(config, log);
  const relay = new OutboxRelay(pool, nc.jetstream(), shards, log, relayOptions(config)).start();
  const defaults = pricingDefaults(config);
  const owned = new Set(shards);
  let stopping = false;

  const announce = (eventId: string, moves: readonly PriceMove[]): void => {
    if (moves.length === 0) return;
    countPriceChanges(moves);
    relay.kick([shardOf(eventId, config.shards)]);
  };

  // The whole shard in stream order, in runs: a sale's bookings are summed per second before they are written.
  const consumer = await consumeShardsInBatches(
    nc,
    CONSUMER,
    shards,
    DEMAND_EVENTS,
    log,
    (messages) =>
      inTransaction(pool, async (client) => {
        await recordDemand(client, await freshEvents(client, CONSUMER, messages));
      }),
    { pace: yieldToForeground, deadLetters: (d, kind) => recordDeadLetter(pool, d, kind) },
  );

  // A boundary is weighed once the facts of its shard that occurred by it have been applied (the
  // watermark), and never before the settle time for transactions still open at it. A thread that
  // starts behind (a restart mid-sale) waits the same way for what arrived while none ran.
  const watermarks = new Watermarks(pool, await nc.jetstreamManager(), CONSUMER);
  const sweep = async (): Promise<void> => {
    const settled = Date.now() - config.pricingSettleMs;
    const due = (await dueEvents(pool, new Date(settled))).filter((e) => owned.has(shardOf(e.eventId, config.shards)));
    if (due.length === 0) return;
    const marks = await watermarks.look([...new Set(due.map((e) => shardOf(e.eventId, config.shards)))], settled);
    for (const { eventId, next } of due) {
      if (stopping) return;
      const until = marks.get(shardOf(eventId, config.shards)) ?? -Infinity;
      if (next > until) continue;
      // One event failing (a version conflict, a lost connection) leaves it due for the next sweep.
      const moves = await reprice(pool, config.shards, eventId, until).catch((err: unknown) => {
        log.warn({ err, eventId }, 'price evaluation failed; the next sweep retries');
        return [];
      });
      announce(eventId, moves);
    }
  };
  let sweeping: Promise<void> | undefined;
  const sweeper = setInterval(() => {
    sweeping ??= sweep()
      .catch((err: unknown) => log.warn({ err }, 'price sweep failed'))
      .finally(() => {
        sweeping = undefined;
      });
  }, SWEEP_MS);

  return {
    handlers: {
      quote: (req) => quote(pool, req.eventId, config.pricingSettleMs),
      setPolicy: async (req, ctx) => {
        const done = await setPolicy(pool, config.shards, req, ctx, defaults, new Date());
        announce(req.eventId, done.moves);
        return done.outcome;
      },
      history: (req, ctx) => listHistory(pool, req, ctx),
      ping: async (_req, _ctx, meta) => {
        await pool.query('SELECT 1');
        return ok({ kind: 'pricing', shard: meta.shard, thread: threadId });
      },
    },
    async stop() {
      stopping = true;
      clearInterval(sweeper);
      await sweeping;
      await consumer.stop();
      await relay.stop();
      await pool.end();
    },
  };
};
