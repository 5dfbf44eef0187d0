// The mailer actor: reads the domain events of its shards (durably, each
// applied once), plans the mails they owe into mail_deliveries in the same
// transaction, and sends what is due through SendGrid and/or SMTP with
// retries and a dead-letter store. It never sits on the booking path: a
// booking is done when inventory commits; its mail follows from the stream.
// Admins preview templates and read and retry dead letters through it.
import { threadId } from 'node:worker_threads';
import {
  ok,
  refuse,
  type BookingRef,
  type CallContext,
  type DeliveryRef,
  type ListDeadLetters,
  type PreviewMail,
} from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { publicUrlOf } from '../../platform/config.js';
import { inTransaction, openPostgres } from '../../platform/resources.js';
import { consumeShardsInBatches, freshEvents } from '../../platform/batch-consumer.js';
import { recordDeadLetter } from '../../platform/dead-letters.js';
import { ForegroundRate, SaleWatch } from '../../platform/pressure.js';
import { listDeadLetters, retryDeadLetter } from './dead-letters.js';
import { writeDeliveries, type Intent } from './deliveries.js';
import { mailSkipped } from './metrics.js';
import { providersFrom } from './providers.js';
import { CONSUMER, eventLookup, plan, REACTS_TO } from './reactions.js';
import { Renderer } from './render.js';
import { resendTickets } from './resend.js';
import { Sender } from './sender.js';
import { TicketParts } from './ticket-parts.js';
import { isTemplateName } from './templates.js';

/** A sale is over once bookings stay under EVENTLY_MAIL_SALE_RATE this long. */
const SALE_QUIET_MS = 10_000;

export const start: StartActor<'mailer'> = async ({ config, log, shards, nc, pressure, yieldToForeground }) => {
  const renderer = Renderer.load();
  const pool = openPostgres(config, log, 4);
  const providers = await providersFrom(config, log);
  if (!config.ticketSecret) throw new Error('EVENTLY_TICKET_SECRET must be set: mails carry signed tickets and links');
  const parts = new TicketParts(pool, config.ticketSecret, publicUrlOf(config));
  const sale = new SaleWatch(new ForegroundRate(pressure), config.mailSaleRate, SALE_QUIET_MS);
  const sender = new Sender(
    pool,
    providers,
    renderer,
    { maxAttempts: config.mailMaxAttempts, retryBaseMs: config.mailRetryBaseMs },
    log,
    parts,
    yieldToForeground,
    () => (sale.on() ? config.mailSaleHoldMs : 0),
  );
  const policy = { publicUrl: publicUrlOf(config) };

  // In runs of messages: during a flash sale, one transaction plans the mails of thousands of bookings.
  const consumer = await consumeShardsInBatches(
    nc,
    CONSUMER,
    shards,
    REACTS_TO,
    log,
    async (messages) => {
      const planned = await inTransaction(pool, async (client) => {
        const readEvent = eventLookup(client);
        const intents: Intent[] = [];
        for (const event of await freshEvents(client, CONSUMER, messages)) {
          for (const mail of await plan(client, readEvent, event, policy)) intents.push({ ...mail, cause: event.id });
        }
        return writeDeliveries(client, intents);
      });
      for (const { cause, userId, template, reason } of planned.skipped) {
        mailSkipped.inc({ reason });
        log.warn({ userId, template, reason, domainEvent: cause }, 'mail skipped: the recipient has no usable address');
      }
      if (planned.written > planned.skipped.length) sender.kick();
    },
    { pace: yieldToForeground, deadLetters: (d, kind) => recordDeadLetter(pool, d, kind) },
  );
  sender.kick();
  log.info({ providers: providers.names, shards: shards.length }, 'mailer consuming');

  const adminOnly = (ctx: CallContext) =>
    ctx.role === 'admin' ? undefined : refuse('FORBIDDEN', 'only admins manage mail');
  return {
    handlers: {
      preview: async (req: PreviewMail, ctx: CallContext) =>
        adminOnly(ctx) ??
        (isTemplateName(req.template)
          ? ok({ template: req.template, ...renderer.preview(req.template) })
          : refuse('NOT_FOUND', `no mail template ${req.template}`)),
      deadLetters: async (req: ListDeadLetters, ctx: CallContext) => adminOnly(ctx) ?? listDeadLetters(pool, req),
      retry: async (req: DeliveryRef, ctx: CallContext) => {
        const outcome = adminOnly(ctx) ?? (await retryDeadLetter(pool, req));
        if (outcome.ok) sender.kick();
        return outcome;
      },
      resendTickets: async (req: BookingRef, ctx: CallContext) => {
        const outcome = await resendTickets(pool, req, ctx);
        if (outcome.ok) sender.kick();
        return outcome;
      },
      ping: async () => {
        await pool.query('SELECT 1');
        return ok({ kind: 'mailer', shard: null, thread: threadId });
      },
    },
    async stop() {
      await consumer.stop();
      await sender.stop();
      providers.close();
      await pool.end();
    },
  };
};
