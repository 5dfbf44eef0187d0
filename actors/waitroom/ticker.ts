// A room's tick, on the thread that owns its shard: keep the Redis mirror
// current, draw the pre-queue at opensAt, expire admissions, admit at the
// room's pace, and tell every edge what changed in one core NATS message
// (ranks that left the line, who was admitted with their token).
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { queueSubject, signAdmission, type QueueChange } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import { admitNext, demandOf, drawPrequeue, expireDue } from './admissions.js';
import type { BookingTimes } from './booking-times.js';
import type { Line } from './line.js';
import { admittedTotal, expiredTotal, waitingGauge, waitSeconds } from './metrics.js';
import { adaptiveDue, fixedDue, MeasuredRate, shoppingSeconds, type PaceSettings } from './pace.js';
import type { RoomRow } from './rooms.js';
import { newSeed } from './shuffle.js';

export const RATES_KEY = 'evently:wr:rates';

interface RoomMemory {
  seq: number;
  carry: number;
  lastTick: number;
  rate: MeasuredRate;
}

export interface TickDeps {
  pool: pg.Pool;
  redis: Redis;
  nc: NatsConnection;
  line: Line;
  key: Buffer;
  pace: PaceSettings;
  bookingTimes: BookingTimes;
  /** The time between two ticks: the edges tell a tick's admitted people over it. */
  tickMs: number;
  log: Logger;
}

export class Ticker {
  private readonly epoch = randomUUID();
  private readonly memory = new Map<string, RoomMemory>();
  /** Ranks that left the waiting line by leaving, since the room's last tick. */
  private readonly leftRanks = new Map<string, number[]>();

  constructor(private readonly d: TickDeps) {}

  /** The tick series a positions read sees: every change up to this seq is applied already (or is being applied). */
  series(eventId: string): { epoch: string; seq: number } {
    return { epoch: this.epoch, seq: this.memory.get(eventId)?.seq ?? 0 };
  }

  rate(eventId: string): number {
    return this.memory.get(eventId)?.rate.perSecond() ?? 0;
  }

  noteLeft(eventId: string, rank: number): void {
    const list = this.leftRanks.get(eventId) ?? [];
    list.push(rank);
    this.leftRanks.set(eventId, list);
  }

  forget(eventId: string): void {
    this.memory.delete(eventId);
    this.leftRanks.delete(eventId);
    waitingGauge.remove({ eventId });
  }

  /** One tick of every room this thread owns. A failing room is logged and skipped. */
  async tick(rooms: readonly RoomRow[]): Promise<void> {
    await this.d.line.refreshRunId();
    for (const room of rooms) {
      await this.tickRoom(room).catch((err: unknown) =>
        this.d.log.error({ err, eventId: room.event_id }, 'waiting room tick failed'),
      );
    }
    for (const eventId of this.memory.keys()) if (!rooms.some((r) => r.event_id === eventId)) this.forget(eventId);
  }

  private async tickRoom(room: RoomRow): Promise<void> {
    const { pool, line, log } = this.d;
    const eventId = room.event_id;
    const now = Date.now();
    let mem = this.memory.get(eventId);
    if (!mem) this.memory.set(eventId, (mem = { seq: 0, carry: 0, lastTick: now, rate: new MeasuredRate() }));
    // Taken before anything moves: a positions read that began before this tick reports the previous seq.
    const seq = ++mem.seq;
    let reset = false;
    if (!(await line.isCurrent(eventId))) {
      const waiting = await line.rebuild(eventId);
      log.info({ eventId, waiting }, 'waiting line mirrored into Redis from Postgres');
      reset = true;
    }
    let shuffled = room.shuffled_at !== null;
    if (!shuffled && room.opens_at.getTime() <= now) {
      const draw = await drawPrequeue(pool, eventId, newSeed());
      // The seed and both digests are the audit trail: replaying the seed over the input order gives the output order.
      if (draw) log.info({ action: 'evently.waitroom.prequeue.drawn', eventId, ...draw }, 'pre-queue drawn');
      await line.rebuild(eventId);
      // The thread's copy of the room says so at once: positions are read from it between ticks.
      room.shuffled_at = new Date();
      shuffled = true;
      reset = true;
    }
    const expired = await expireDue(pool, eventId);
    expiredTotal.inc(expired);
    let admittedRows: Awaited<ReturnType<typeof admitNext>> = [];
    // Not in the tick of the draw: every edge is asking again for its followers' new places, and the
    // first people let in would book into that.
    if (shuffled && !reset) {
      let n: number;
      if (room.admit_per_minute !== null) {
        const demand = await demandOf(pool, eventId, this.d.pace.windowSeconds, shoppingSeconds(this.d.pace));
        const due = fixedDue(room.admit_per_minute, now - mem.lastTick, mem.carry, demand.available);
        mem.carry = due.carry;
        n = due.admit;
      } else {
        const demand = await demandOf(pool, eventId, this.d.pace.windowSeconds, shoppingSeconds(this.d.pace));
        n = adaptiveDue(demand, this.d.pace, this.d.bookingTimes.p90Ms(eventId));
      }
      admittedRows = await admitNext(pool, eventId, n, room.admission_ttl_s);
      await line.remove(
        eventId,
        admittedRows.map((r) => r.user_id),
      );
    }
    // A tick that admitted nobody because of the draw keeps its elapsed time for the next one (fixed rate).
    if (!(shuffled && reset)) mem.lastTick = now;
    mem.rate.add(admittedRows.length, now);
    admittedTotal.inc(admittedRows.length);
    for (const r of admittedRows)
      waitSeconds.observe(Math.max(0, (r.admitted_at!.getTime() - r.joined_at.getTime()) / 1000));
    const ratePerSecond = mem.rate.perSecond(now);
    await this.d.redis.hset(RATES_KEY, eventId, String(ratePerSecond));
    waitingGauge.set({ eventId }, await line.waiting(eventId));

    const left = this.leftRanks.get(eventId) ?? [];
    this.leftRanks.delete(eventId);
    const removed = [...admittedRows.map((r) => Number(r.rank)), ...left].sort((a, b) => a - b);
    // Published every tick, changed or not, so that an edge can tell a lost message from a quiet room.
    const change: QueueChange = {
      eventId,
      seq,
      epoch: this.epoch,
      reset,
      removed,
      spreadMs: this.d.tickMs,
      ratePerSecond,
      at: Date.now(),
      admitted: admittedRows.map((r) => {
        const x = r.admission_expires_at!.getTime();
        return {
          userId: r.user_id,
          token: signAdmission(this.d.key, { u: r.user_id, e: eventId, x }),
          expiresAt: new Date(x).toISOString(),
          admittedAt: r.admitted_at!.toISOString(),
        };
      }),
    };
    this.d.nc.publish(queueSubject(eventId), JSON.stringify(change));
  }
}
