// The waiting line's mirror in Redis: one sorted set per room, member = user
// id, score = rank, so a position is one ZRANK. Postgres holds the truth; the
// mirror is rebuilt from it whenever it is missing or was built on another
// Redis run (a restarted Redis, empty or loaded from an old snapshot, has a
// new run_id), so a Redis restart costs nobody their place.
import type { Redis } from 'ioredis';
import type pg from 'pg';

const lineKey = (eventId: string) => `evently:wr:${eventId}:line`;
const builtKey = (eventId: string) => `evently:wr:${eventId}:built`;
/** Joins and leaves racing a rebuild are replayed from this far back. */
const CATCH_UP_MS = 10_000;

export interface Placed {
  userId: string;
  rank: number;
}

export class Line {
  private runId: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly pool: pg.Pool,
  ) {}

  /** Redis's run id, read once per tick: it changes with every Redis restart. */
  async refreshRunId(): Promise<void> {
    const info = await this.redis.info('server');
    this.runId = /run_id:(\w+)/.exec(info)?.[1];
  }

  async isCurrent(eventId: string): Promise<boolean> {
    return this.runId !== undefined && (await this.redis.get(builtKey(eventId))) === this.runId;
  }

  async add(eventId: string, placed: readonly Placed[]): Promise<void> {
    if (placed.length === 0) return;
    await this.redis.zadd(lineKey(eventId), ...placed.flatMap((p) => [p.rank, p.userId]));
  }

  async remove(eventId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length > 0) await this.redis.zrem(lineKey(eventId), ...userIds);
  }

  /** 1-based places and ranks of those of `userIds` waiting in the mirror. */
  async places(eventId: string, userIds: readonly string[]): Promise<Map<string, { position: number; rank: number }>> {
    if (userIds.length === 0) return new Map();
    const pipe = this.redis.pipeline();
    for (const u of userIds) pipe.zrank(lineKey(eventId), u).zscore(lineKey(eventId), u);
    const replies = (await pipe.exec()) ?? [];
    const out = new Map<string, { position: number; rank: number }>();
    userIds.forEach((u, i) => {
      const rank = replies[2 * i]?.[1];
      const score = replies[2 * i + 1]?.[1];
      if (typeof rank === 'number' && score !== null && score !== undefined)
        out.set(u, { position: rank + 1, rank: Number(score) });
    });
    return out;
  }

  async waiting(eventId: string): Promise<number> {
    return this.redis.zcard(lineKey(eventId));
  }

  async drop(eventId: string): Promise<void> {
    await this.redis.del(lineKey(eventId), builtKey(eventId));
  }

  /** Builds the mirror aside from Postgres, swaps it in, then replays what changed meanwhile. */
  async rebuild(eventId: string): Promise<number> {
    const started = new Date(Date.now() - CATCH_UP_MS);
    const tmp = `${lineKey(eventId)}:building`;
    await this.redis.del(tmp);
    const { rows } = await this.pool.query<{ user_id: string; rank: string }>(
      `SELECT user_id, rank FROM waitroom_tickets WHERE event_id = $1 AND state = 'waiting'`,
      [eventId],
    );
    for (let i = 0; i < rows.length; i += 5000) {
      await this.redis.zadd(tmp, ...rows.slice(i, i + 5000).flatMap((r) => [Number(r.rank), r.user_id]));
    }
    if (rows.length > 0) await this.redis.rename(tmp, lineKey(eventId));
    else await this.redis.del(lineKey(eventId));
    const { rows: recent } = await this.pool.query<{ user_id: string; rank: string; state: string }>(
      `SELECT user_id, rank, state FROM waitroom_tickets
       WHERE event_id = $1 AND greatest(joined_at, admitted_at, ended_at) >= $2 ORDER BY joined_at`,
      [eventId, started],
    );
    const last = new Map(recent.map((r) => [r.user_id, r]));
    await this.add(
      eventId,
      [...last.values()].filter((r) => r.state === 'waiting').map((r) => ({ userId: r.user_id, rank: Number(r.rank) })),
    );
    await this.remove(
      eventId,
      [...last.values()].filter((r) => r.state !== 'waiting').map((r) => r.user_id),
    );
    if (this.runId) await this.redis.set(builtKey(eventId), this.runId);
    return rows.length;
  }
}
