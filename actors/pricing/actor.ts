// The pricing actor: owns the prices of its shards' events. It answers the
// `pricing` operations (price.get, policy.set, history.list, ping), keeps
// each event's demand from the domain stream (durably, each message applied
// once, in runs), and evaluates dynamic policies at their interval boundaries. Every
// price change is written under the event row lock and announced as a
// price.changed domain event through the outbox.
import { threadId } from 'node:worker_threads';
import type { NatsConnection } from 'nats';
import { DOMAIN_STREAM, ok, shardOf } from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { durableName } from '../../platform/domain-stream.js';
import type { Logger } from '../../platform/logger.js';
import { OutboxRelay } from '../../platform/outbox-relay.js';
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

export const CONSUMER = 'pricing';
const SWEEP_MS = 500;
/** How long a starting thread waits for its consumers to read what arrived while none ran. */
const CATCH_UP_WAIT_MS = 30_000;

/** Resolves once every consumer of these shards has nothing pending (or the wait is over). */
async function caughtUp(
  nc: NatsConnection,
  shards: readonly number[],
  log: Logger,
  isStopping: () => boolean,
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const until = Date.now() + CATCH_UP_WAIT_MS;
  while (!isStopping() && Date.now() < until) {
    const infos = await Promise.all(
      shards.map((shard) => jsm.consumers.info(DOMAIN_STREAM, durableName(CONSUMER, shard)).catch(() => undefined)),
    );
    if (infos.every((i) => i && i.num_pending === 0 && i.num_ack_pending === 0)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  log.warn('pricing consumers still had a backlog after the start-up wait; evaluating anyway');
}

export const start: StartActor<'pricing'> = async ({ config, log, shards, nc, yieldToForeground }) => {
  const pool = openPostgres(config, log);
  const relay = new OutboxRelay(pool, nc.jetstream(), shards, log, { pollMs: config.outboxPollMs }).start();
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

  const sweep = async (): Promise<void> => {
    const until = Date.now() - config.pricingSettleMs;
    for (const eventId of await dueEvents(pool, new Date(until))) {
      if (stopping) return;
      if (!owned.has(shardOf(eventId, config.shards))) continue;
      // One event failing (a version conflict, a lost connection) leaves it due for the next sweep.
      const moves = await reprice(pool, config.shards, eventId, until).catch((err: unknown) => {
        log.warn({ err, eventId }, 'price evaluation failed; the next sweep retries');
        return [];
      });
      announce(eventId, moves);
    }
  };
  let sweeping: Promise<void> | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  const started = caughtUp(nc, shards, log, () => stopping)
    .catch((err: unknown) => log.warn({ err }, 'consumer catch-up check failed'))
    .then(() => {
      if (stopping) return;
      sweeper = setInterval(() => {
        sweeping ??= sweep()
          .catch((err: unknown) => log.warn({ err }, 'price sweep failed'))
          .finally(() => {
            sweeping = undefined;
          });
      }, SWEEP_MS);
    });

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
      await started;
      clearInterval(sweeper);
      await sweeping;
      await consumer.stop();
      await relay.stop();
      await pool.end();
    },
  };
};
