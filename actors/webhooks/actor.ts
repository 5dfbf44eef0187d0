// The webhook actor: reads the domain events of its shards (durably, each
// planned once), plans one delivery per subscribed endpoint in the same
// transaction, and sends what is due with Standard Webhooks signatures,
// retries with backoff for a day, in order per (endpoint, event), through
// the SSRF guard. It never sits on the booking path: a booking is done when
// inventory commits; its webhooks follow from the stream. Admins manage
// endpoints and read and retry deliveries through it.
import { threadId } from 'node:worker_threads';
import { ok, refuse, type CallContext } from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { consumeShardsInBatches } from '../../platform/batch-consumer.js';
import { recordDeadLetter } from '../../platform/dead-letters.js';
import { inTransaction, openPostgres } from '../../platform/resources.js';
import { listDeliveries, retryDelivery } from './delivery-log.js';
import { Endpoints } from './endpoints.js';
import { WebhookClient } from './http-client.js';
import { webhookPlanned } from './metrics.js';
import { anyoneSubscribed, CONSUMER, planDeliveries, REACTS_TO } from './planning.js';
import { Sender } from './sender.js';

export const start: StartActor<'webhooks'> = async ({ config, log, shards, nc, yieldToForeground }) => {
  const pool = openPostgres(config, log, 6);
  const client = new WebhookClient(config.webhookTimeoutMs, config.webhookAllowHosts);
  const sender = new Sender(
    pool,
    client,
    {
      retry: {
        baseMs: config.webhookRetryBaseMs,
        maxMs: config.webhookRetryMaxMs,
        windowMs: config.webhookRetryWindowMs,
      },
      timeoutMs: config.webhookTimeoutMs,
      perEndpoint: config.webhookEndpointConcurrency,
    },
    log,
  );
  const endpoints = new Endpoints(pool, config.webhookAllowHosts, config.webhookSecretGraceMs);

  const consumer = await consumeShardsInBatches(
    nc,
    CONSUMER,
    shards,
    REACTS_TO,
    log,
    async (messages) => {
      // Nobody subscribed: nothing is owed, so no transaction and no consumed-event rows either.
      if (
        !(await anyoneSubscribed(
          pool,
          messages.flatMap((m) => m.events),
        ))
      )
        return;
      const planned = await inTransaction(pool, (tx) => planDeliveries(tx, messages));
      if (planned > 0) {
        webhookPlanned.inc(planned);
        sender.nudge();
      }
    },
    { pace: yieldToForeground, deadLetters: (d, kind) => recordDeadLetter(pool, d, kind) },
  );
  sender.kick();
  log.info({ shards: shards.length }, 'webhooks consuming');

  const notAdmin = (ctx: CallContext) =>
    ctx.role === 'admin' ? undefined : refuse('FORBIDDEN', 'only admins manage webhooks');
  return {
    handlers: {
      create: async (req, ctx) => notAdmin(ctx) ?? endpoints.create(req),
      list: async (req, ctx) => notAdmin(ctx) ?? endpoints.list(req),
      get: async (req, ctx) => notAdmin(ctx) ?? endpoints.get(req),
      update: async (req, ctx) => {
        const refused = notAdmin(ctx);
        if (refused) return refused;
        const outcome = await endpoints.update(req);
        if (outcome.ok && outcome.value.enabled) sender.kick();
        return outcome;
      },
      remove: async (req, ctx) => notAdmin(ctx) ?? endpoints.remove(req),
      rotateSecret: async (req, ctx) => notAdmin(ctx) ?? endpoints.rotateSecret(req),
      deliveries: async (req, ctx) => notAdmin(ctx) ?? listDeliveries(pool, req),
      retry: async (req, ctx) => {
        const refused = notAdmin(ctx);
        if (refused) return refused;
        const outcome = await retryDelivery(pool, req);
        if (outcome.ok) sender.kick();
        return outcome;
      },
      ping: async () => {
        await pool.query('SELECT 1');
        return ok({ kind: 'webhooks', shard: null, thread: threadId });
      },
    },
    async stop() {
      await consumer.stop();
      await sender.stop();
      await client.close();
      await pool.end();
    },
  };
};
