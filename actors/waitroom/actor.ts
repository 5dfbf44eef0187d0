// The waiting-room actor: owns the rooms of its shards. It answers the
// `waitroom` operations (rooms.*, tickets.*, ping), and every tick admits
// people at each room's pace (ticker.ts). Postgres holds tickets, admissions,
// settings and the draw's seed; Redis mirrors the waiting line for positions.
// Edges hear over core NATS which rooms are on and what changed per tick.
import { threadId } from 'node:worker_threads';
import {
  admissionKey,
  estimateSeconds,
  ok,
  refuse,
  ROOMS_SUBJECT,
  shardOf,
  type CallContext,
  type QueueTicket,
  type RoomChange,
} from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { inTransaction, openPostgres, openRedis } from '../../platform/resources.js';
import { BookingTimes } from './booking-times.js';
import { RoomBatcher } from './room-batcher.js';
import { Line } from './line.js';
import { joinedTotal } from './metrics.js';
import { allRooms, removeRoom, roomRow, roomState, setRoom, type RoomRow } from './rooms.js';
import { RATES_KEY, Ticker } from './ticker.js';
import {
  joinBatch,
  latestTickets,
  leaveQueue,
  liveTickets,
  placeInPostgres,
  toTicket,
  type TicketRow,
} from './tickets.js';

export const start: StartActor<'waitroom'> = async ({ config, log, shards, nc }) => {
  const pool = openPostgres(config, log);
  const redis = openRedis(config, log);
  const key = admissionKey(config.admissionSecret, config.jwtSecret);
  const line = new Line(redis, pool);
  const pace = {
    tickMs: config.waitroomTickMs,
    startShoppers: config.waitroomStartShoppers,
    shopSeconds: config.waitroomShopSeconds,
    windowSeconds: 10,
    targetBookingMs: config.waitroomTargetBookingMs,
  };
  const bookingTimes = new BookingTimes();
  const paceReports = bookingTimes.follow(nc, log);
  const ticker = new Ticker({ pool, redis, nc, line, key, pace, bookingTimes, tickMs: config.waitroomTickMs, log });
  const mine = new Set(shards);
  let rooms = new Map<string, RoomRow>();

  const rates = async (): Promise<Record<string, string>> => redis.hgetall(RATES_KEY).catch(() => ({}));
  const rateOf = (eventId: string, all: Record<string, string> = {}) =>
    ticker.rate(eventId) || Number(all[eventId] ?? 0);

  /** Position and estimate of waiting tickets: Redis first, Postgres while the mirror is rebuilt. */
  const standings = async (eventId: string, rows: readonly TicketRow[]) => {
    const room = rooms.get(eventId) ?? (await roomRow(pool, eventId));
    const drawn = room?.shuffled_at != null;
    const perSecond = ticker.rate(eventId) || (room?.admit_per_minute ? room.admit_per_minute / 60 : 0);
    const waiting = rows.filter((r) => r.state === 'waiting' && (drawn || !r.prequeue));
    const places = await line.places(
      eventId,
      waiting.map((r) => r.user_id),
    );
    const out = new Map<
      string,
      { position: number | null; estimatedWaitSeconds: number | null; rank: number | null }
    >();
    for (const r of rows) {
      if (r.state !== 'waiting') {
        out.set(r.user_id, { position: null, estimatedWaitSeconds: null, rank: null });
        continue;
      }
      if (!drawn && r.prequeue) {
        // Not drawn yet: no place exists; the honest wait is at least until opensAt.
        const untilOpen = room ? Math.max(0, Math.ceil((room.opens_at.getTime() - Date.now()) / 1000)) : null;
        out.set(r.user_id, { position: null, estimatedWaitSeconds: untilOpen, rank: null });
        continue;
      }
      const place = places.get(r.user_id) ?? {
        position: await placeInPostgres(pool, eventId, Number(r.rank)),
        rank: Number(r.rank),
      };
      out.set(r.user_id, {
        position: place.position,
        estimatedWaitSeconds: estimateSeconds(place.position, perSecond),
        rank: place.rank,
      });
    }
    return out;
  };

  // A batch's answers are worked out together: its places are one Redis pipeline, not one per joiner.
  const batcher = new RoomBatcher<{ ticket: QueueTicket; created: boolean }>(
    async (eventId, userIds) => {
      const joined = await joinBatch(pool, eventId, userIds);
      if (!joined) return undefined;
      const created = [...joined.values()].filter((j) => j.created).map((j) => j.row);
      joinedTotal.inc(created.length);
      await line.add(
        eventId,
        created.map((r) => ({ userId: r.user_id, rank: Number(r.rank) })),
      );
      const standing = await standings(
        eventId,
        [...joined.values()].map((j) => j.row),
      );
      return new Map(
        [...joined].map(([userId, j]) => [
          userId,
          { ticket: toTicket(j.row, standing.get(userId)!, key), created: j.created },
        ]),
      );
    },
    1000,
    log,
  );
  // Polls of one room arriving together: one query and one Redis pipeline for the batch. Through a
  // sale the polls never stop, and one each was a Postgres statement and a Redis round trip per poll.
  const polls = new RoomBatcher<QueueTicket>(
    async (eventId, userIds) => {
      const rows = await latestTickets(pool, eventId, userIds);
      const standing = await standings(eventId, [...rows.values()]);
      return new Map([...rows].map(([userId, row]) => [userId, toTicket(row, standing.get(userId)!, key)]));
    },
    1000,
    log,
    'poll',
  );

  const announce = (change: RoomChange) => nc.publish(ROOMS_SUBJECT, JSON.stringify(change));
  const needsUser = refuse('UNAUTHENTICATED', 'sign in to use the waiting room');
  const adminOnly = refuse('FORBIDDEN', 'admins only');
  const noTicket = refuse('NOT_FOUND', 'you are not in this waiting room');

  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  const loop = () => {
    if (stopping) return;
    ticking = (async () => {
      const all = await allRooms(pool);
      rooms = new Map(all.filter((r) => mine.has(shardOf(r.event_id, config.shards))).map((r) => [r.event_id, r]));
      await ticker.tick([...rooms.values()]);
    })()
      .catch((err: unknown) => log.error({ err }, 'waiting room tick failed'))
      .finally(() => {
        if (!stopping) timer = setTimeout(loop, config.waitroomTickMs);
      });
  };
  loop();

  return {
    handlers: {
      setRoom: async (req, ctx: CallContext) => {
        if (ctx.role !== 'admin') return adminOnly;
        const outcome = await setRoom(pool, req, config.waitroomAdmissionTtlSeconds);
        if (outcome.ok) announce({ eventId: req.eventId, enabled: true });
        return outcome;
      },
      removeRoom: async (req, ctx: CallContext) => {
        if (ctx.role !== 'admin') return adminOnly;
        const outcome = await inTransaction(pool, (client) => removeRoom(client, req.eventId));
        if (outcome.ok) {
          announce({ eventId: req.eventId, enabled: false });
          await line.drop(req.eventId);
          ticker.forget(req.eventId);
        }
        return outcome;
      },
      roomState: async (req, ctx: CallContext) => {
        if (ctx.role !== 'admin') return adminOnly;
        const row = await roomRow(pool, req.eventId);
        if (!row) return refuse('NOT_FOUND', 'this event has no waiting room');
        const all = await rates();
        const [state] = await roomState(pool, [row], (e) => rateOf(e, all));
        return state ? ok(state) : refuse('NOT_FOUND', 'this event has no waiting room');
      },
      rooms: async (_req, ctx: CallContext) => {
        if (ctx.role !== 'admin') return adminOnly;
        const all = await rates();
        return ok({ items: await roomState(pool, await allRooms(pool), (e) => rateOf(e, all)) });
      },
      roomIds: async () => ok({ eventIds: (await allRooms(pool)).map((r) => r.event_id) }),
      join: async (req, ctx: CallContext) => {
        if (!ctx.userId) return needsUser;
        const joined = await batcher.submit(req.eventId, ctx.userId);
        if (!joined) return refuse('ROOM_CLOSED', 'this event has no waiting room on; book directly');
        return ok(joined.ticket, joined.created ? 201 : 200);
      },
      mine: async (req, ctx: CallContext) => {
        if (!ctx.userId) return needsUser;
        const ticket = await polls.submit(req.eventId, ctx.userId);
        return ticket ? ok(ticket) : noTicket;
      },
      leave: async (req, ctx: CallContext) => {
        if (!ctx.userId) return needsUser;
        const { waitingRank } = await leaveQueue(pool, req.eventId, ctx.userId);
        if (waitingRank !== null) {
          await line.remove(req.eventId, [ctx.userId]);
          ticker.noteLeft(req.eventId, waitingRank);
        }
        return ok({});
      },
      // Asked by an edge for its live subscribers; the edge has checked who they are.
      positions: async (req) => {
        const series = ticker.series(req.eventId);
        const rows = await liveTickets(pool, req.eventId, req.userIds);
        const byUser = new Map(rows.map((r) => [r.user_id, r]));
        const standing = await standings(req.eventId, rows);
        const items = req.userIds.map((userId: string) => {
          const row = byUser.get(userId);
          const s = row ? standing.get(userId)! : undefined;
          return { userId, rank: s?.rank ?? null, ticket: row && s ? toTicket(row, s, key) : null };
        });
        return ok({ items, ratePerSecond: ticker.rate(req.eventId), ...series });
      },
      ping: async (_req, _ctx, meta) => {
        await pool.query('SELECT 1');
        return ok({ kind: 'waitroom', shard: meta.shard, thread: threadId });
      },
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await ticking;
      paceReports.unsubscribe();
      await pool.end();
      redis.disconnect();
    },
  };
};
