// The check-in actor: sharded by event like inventory, so one thread owns an
// event's door. It verifies ticket codes (Ed25519, keys from Postgres),
// checks tickets in exactly once, answers offline scanners (revocations,
// batch uploads) and pushes the live check-in figure. It also serves what is
// not tied to a shard: a booking's tickets, the published keys, rotation.
// Staff and admins scan; a user may not.
import { threadId } from 'node:worker_threads';
import {
  LinkSigner,
  ok,
  peekTicketCode,
  refuse,
  verifyTicketCode,
  type CallContext,
  type CheckinResult,
  type EventBatch,
  type EventRef,
  type ListRevoked,
  type Outcome,
  type Scan,
  type ScanResult,
  type TicketClaims,
  type TicketsQuery,
} from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { openPostgres } from '../../platform/resources.js';
import { TicketKeys } from '../../platform/tickets/keys.js';
import { readTickets } from '../../platform/tickets/tickets.js';
import { FiguresPusher, readFigures } from './figures.js';
import { listRevoked } from './revoked.js';
import { ScanBatcher } from './scan-batcher.js';
import { answered, remember, scanTicket } from './scans.js';

const DEFAULT_GATE = 'main';

const atTheDoor = (ctx: CallContext) =>
  ctx.role === 'staff' || ctx.role === 'admin' ? undefined : refuse('FORBIDDEN', 'only staff check tickets in');

export const start: StartActor<'checkin'> = async ({ config, log, nc }) => {
  if (!config.ticketSecret) throw new Error('EVENTLY_TICKET_SECRET must be set: it unlocks the ticket signing keys');
  const pool = openPostgres(config, log, 10);
  const keys = new TicketKeys(pool, config.ticketSecret);
  const figures = new FiguresPusher(pool, nc, log);
  const batcher = new ScanBatcher(pool);
  /** Two uploads of one nonce at once get one answer: the second waits for the first. */
  const pending = new Map<string, Promise<Outcome<CheckinResult>>>();

  const genuine = async (code: string): Promise<TicketClaims | undefined> => {
    const claims = peekTicketCode(code);
    const key = claims && (await keys.keyOf(claims.kid));
    return key ? verifyTicketCode(code, () => key) : undefined;
  };

  const scanOnce = async (
    code: string,
    gate: string,
    scannedAt: string | null,
    expectEvent: string | undefined,
    ctx: CallContext,
    earliestWins: boolean,
  ) => {
    const claims = await genuine(code);
    if (!claims) return refuse('INVALID_TICKET', 'the code is not a genuine ticket');
    if (expectEvent && expectEvent.toLowerCase() !== claims.eventId)
      return refuse('WRONG_EVENT', `the ticket is for event ${claims.eventId}`);
    const input = { claims, code, gate, scannedAt, staffId: ctx.userId ?? null, earliestWins };
    // Online scans of one event go to Postgres together; an upload's scans each decide against the recorded time.
    const outcome = await (earliestWins ? scanTicket(pool, input) : batcher.submit(input));
    if (outcome.ok) figures.changed(claims.eventId);
    return outcome;
  };

  /** Runs a scan, or returns the first answer to its nonce. */
  const withNonce = async (
    nonce: string | undefined,
    run: () => Promise<Outcome<CheckinResult>>,
  ): Promise<Outcome<CheckinResult>> => {
    if (!nonce) return run();
    const inFlight = pending.get(nonce);
    if (inFlight) return inFlight;
    const answer = (async () => (await answered(pool, nonce)) ?? remember(pool, nonce, await run()))();
    pending.set(nonce, answer);
    try {
      return await answer;
    } finally {
      pending.delete(nonce);
    }
  };

  const scan = async (req: Scan, ctx: CallContext) =>
    atTheDoor(ctx) ??
    withNonce(req.nonce, () => scanOnce(req.code, req.gate ?? DEFAULT_GATE, null, req.expectedEventId, ctx, false));

  // The earliest scan goes first, so of two offline gates that admitted one ticket the earlier one wins.
  const batch = async (req: EventBatch, ctx: CallContext) => {
    const refused = atTheDoor(ctx);
    if (refused) return refused;
    const order = req.scans
      .map((s, i) => ({ s, i }))
      .sort((a, b) => Date.parse(a.s.scannedAt) - Date.parse(b.s.scannedAt));
    const results: ScanResult[] = new Array(req.scans.length);
    for (const { s, i } of order) {
      const outcome = await withNonce(s.nonce, () => scanOnce(s.code, s.gate, s.scannedAt, undefined, ctx, true));
      results[i] = outcome.ok
        ? {
            nonce: s.nonce,
            result: 'ok',
            ticketId: outcome.value.ticket.id,
            checkedInAt: outcome.value.ticket.checkedInAt,
            gate: outcome.value.ticket.gate,
          }
        : {
            nonce: s.nonce,
            result: outcome.code as ScanResult['result'],
            ticketId: null,
            checkedInAt: null,
            gate: null,
          };
    }
    return ok({ results });
  };

  const links = new LinkSigner(config.ticketSecret);
  const tickets = async (req: TicketsQuery, ctx: CallContext) => {
    const found = await readTickets(pool, keys, req.bookingId);
    const allowed =
      found && (found.userId === ctx.userId || ctx.role === 'admin' || links.check('tickets', req.bookingId, req.link));
    if (!allowed) return refuse('NOT_FOUND', 'booking not found');
    return ok({ items: found.items });
  };

  return {
    handlers: {
      scan: scan,
      batch: batch,
      revoked: async (req: ListRevoked, ctx: CallContext) => atTheDoor(ctx) ?? ok(await listRevoked(pool, req)),
      figures: async (req: EventRef, ctx: CallContext) => atTheDoor(ctx) ?? ok(await readFigures(pool, req.eventId)),
      tickets: tickets,
      keys: async () => ok(await keys.list()),
      rotateKey: async (_req: unknown, ctx: CallContext) =>
        ctx.role === 'admin' ? ok(await keys.rotate()) : refuse('FORBIDDEN', 'admins only'),
      ping: async (_req, _ctx, meta) => {
        await pool.query('SELECT 1');
        return ok({ kind: 'checkin', shard: meta.shard, thread: threadId });
      },
    },
    async stop() {
      figures.stop();
      await Promise.allSettled(pending.values());
      await pool.end();
    },
  };
};
