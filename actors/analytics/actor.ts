// The analytics actor: folds the domain event stream of its shards into the
// roll-up tables (one durable consumer per shard, in stream order, a run of
// messages per transaction), raises alerts when a sale leaves its own
// baseline, and answers the admin analytics reads, rebuilds, the daily report
// and CSV exports. Reads and exports use the read pool: a replica when
// DATABASE_READ_URL is set.
import { threadId } from 'node:worker_threads';
import pg from 'pg';
import {
  ok,
  refuse,
  shardOf,
  type AnalyticsAlertItem,
  type CallContext,
  type DomainMessage,
} from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { consumeShardsInBatches } from '../../platform/batch-consumer.js';
import { recordDeadLetter } from '../../platform/dead-letters.js';
import { OutboxRelay, relayOptions } from '../../platform/outbox-relay.js';
import { inTransaction, openPostgres } from '../../platform/resources.js';
import { countRaised, raiseOnce } from './alerts.js';
import { anomalyOf, stallCandidates, stallOf } from './detect.js';
import { CsvExports } from './export.js';
import { rebuildFromStream, rebuildFromTables } from './rebuild.js';
import { dailyReport, eventAnalytics, summary } from './reports.js';
import { applyEvents, CONSUMER, CONSUMES, lockForLive } from './rollups.js';

/** Reads go to the replica when there is one; its connections are named so operators can tell them apart. */
function openReadPool(config: Config, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseReadUrl ?? config.databaseUrl,
    max: 4,
    idleTimeoutMillis: 30_000,
    application_name: 'evently-analytics-read',
  });
  pool.on('error', (err) => log.warn({ err }, 'postgres idle read client error'));
  return pool;
}

export const start: StartActor<'analytics'> = async ({ config, log, shards, nc, yieldToForeground }) => {
  // Room for one event per shard loop at a time, a stall check and a rebuild.
  const pool = openPostgres(config, log, 6);
  const reads = openReadPool(config, log);
  const relay = new OutboxRelay(pool, nc.jetstream(), shards, log, relayOptions(config)).start();
  const owned = new Set(shards);
  const exports = new CsvExports(reads, nc, log);

  const announce = (alerts: AnalyticsAlertItem[]) => {
    countRaised(alerts);
    if (alerts.length > 0) relay.kick([...new Set(alerts.map((a) => shardOf(a.eventId, config.shards)))]);
  };

  /** One transaction per run of messages: the roll-ups, the claims, and any alert the change reveals. */
  const apply = async (messages: DomainMessage[]) => {
    const alerts = await inTransaction(pool, async (client) => {
      await lockForLive(client);
      const raised: AnalyticsAlertItem[] = [];
      for (const event of await applyEvents(
        client,
        messages.flatMap((m) => m.events),
      )) {
        const anomaly = await anomalyOf(client, event);
        const alert = anomaly && (await raiseOnce(client, config.shards, anomaly));
        if (alert) raised.push(alert);
      }
      return raised;
    });
    announce(alerts);
  };

  let checking: Promise<void> | undefined;
  const checkStalls = async (now: number) => {
    const candidates = (await stallCandidates(pool, now)).filter((c) => owned.has(shardOf(c.eventId, config.shards)));
    for (const candidate of candidates) {
      const alert = await inTransaction(pool, async (client) => {
        const anomaly = await stallOf(client, candidate, now);
        return anomaly && raiseOnce(client, config.shards, anomaly);
      });
      announce(alert ? [alert] : []);
    }
  };
  const ticker = setInterval(() => {
    checking ??= checkStalls(Date.now())
      .catch((err: unknown) => log.warn({ err }, 'stalled-sale check failed'))
      .finally(() => {
        checking = undefined;
      });
  }, config.analyticsTickMs);
  ticker.unref();

  // Each shard whole, in stream order, in runs (the anomaly checks judge a run's minutes after it is counted).
  const consumer = await consumeShardsInBatches(nc, CONSUMER, shards, CONSUMES, log, apply, {
    pace: yieldToForeground,
    deadLetters: (d, kind) => recordDeadLetter(pool, d, kind),
  });

  const adminOnly = (ctx: CallContext) => ctx.role === 'admin';
  const forbidden = refuse('FORBIDDEN', 'analytics are for admins');

  return {
    handlers: {
      summary: async (_req, ctx) => (adminOnly(ctx) ? ok(await summary(reads, Date.now())) : forbidden),
      event: async (req, ctx) => (adminOnly(ctx) ? eventAnalytics(reads, req.eventId, Date.now()) : forbidden),
      dailyReport: async (req, ctx) => (adminOnly(ctx) ? ok(await dailyReport(reads, req.day, Date.now())) : forbidden),
      rebuild: async (req, ctx, meta) => {
        if (!adminOnly(ctx)) return forbidden;
        const result = req.source === 'stream' ? await rebuildFromStream(pool, nc) : await rebuildFromTables(pool);
        meta.log.info(result, 'analytics roll-ups rebuilt');
        return ok(result);
      },
      exportBookings: async (req, ctx) => (adminOnly(ctx) ? exports.start(req) : forbidden),
      ping: async () => {
        await pool.query('SELECT 1');
        return ok({ kind: 'analytics', shard: null, thread: threadId });
      },
    },
    async stop() {
      clearInterval(ticker);
      await checking;
      await exports.stop();
      await consumer.stop();
      await relay.stop();
      await Promise.all([pool.end(), reads.end()]);
    },
  };
};
