// Publishes outbox rows of a set of shards to JetStream, in commit order per
// shard. A writer kicks the relay right after its commit; a slow poll picks up
// rows that a dead process left behind. One relay drains a shard at a time
// (a transaction-scoped advisory lock per shard), so order holds even when
// several threads or supervisors serve the same shard.
import type { JetStreamClient } from 'nats';
import type pg from 'pg';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

const BATCH = 500;
const LOCK_CLASS = 0x0e7e; // advisory-lock namespace of the outbox relay
const CONTENDED_RETRY_MS = 20;
const FAILURE_RETRY_MS = 500;

export interface RelayOptions {
  pollMs: number;
  /**
   * Least time from the end of one pass to the start of the next when rows are committed meanwhile
   * (0: at once). Kicked after every commit, a relay next to a flash sale ran a pass (five Postgres
   * round trips and a JetStream publish) for almost every booking batch, on the thread and the
   * connections the bookings use; waiting this long lets the rows of several batches go together.
   * A backlog (a full batch) is drained without waiting, and a kick after a quiet spell goes at once.
   */
  gapMs?: number;
}

/** The relay's pacing as configured (EVENTLY_OUTBOX_POLL_MS, EVENTLY_OUTBOX_GAP_MS): every writer's relay uses it. */
export const relayOptions = (config: Pick<Config, 'outboxPollMs' | 'outboxGapMs'>): RelayOptions => ({
  pollMs: config.outboxPollMs,
  gapMs: config.outboxGapMs,
});

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Shards to drain on the next pass. */
  private readonly pending = new Set<number>();
  private stopped = false;
  /** When the last pass ended (performance.now()), for the gap between passes. */
  private lastPass = -Infinity;

  constructor(
    private readonly pool: pg.Pool,
    private readonly js: JetStreamClient,
    private readonly shards: readonly number[],
    private readonly log: Logger,
    private readonly options: RelayOptions,
  ) {}

  start(): this {
    this.poller = setInterval(() => this.kick(), this.options.pollMs);
    this.poller.unref();
    this.kick();
    return this;
  }

  /**
   * Drain soon. After a commit the writer names the shard it wrote, which may
   * not be one this relay polls (a request on an "any" subject): publishing
   * at once beats waiting for the owner's next poll.
   */
  kick(shards: readonly number[] = this.shards): void {
    if (this.stopped) return;
    for (const s of shards) this.pending.add(s);
    if (this.running || this.timer) return; // the pass under way, or the one waiting, takes them
    const wait = this.lastPass + (this.options.gapMs ?? 0) - performance.now();
    if (wait > 0) {
      this.later([], Math.ceil(wait));
      return;
    }
    this.running = this.drain(false).finally(() => {
      this.running = undefined;
      if (this.pending.size > 0 && !this.timer) this.kick([]);
    });
  }

  private later(shards: readonly number[], ms: number): void {
    for (const s of shards) this.pending.add(s);
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick([]);
    }, ms);
  }

  /** Passes while rows are pending; unless `all`, rows committed during a pass wait for the gap (kick). */
  private async drain(all: boolean): Promise<void> {
    while (this.pending.size > 0) {
      const shards = [...this.pending];
      this.pending.clear();
      try {
        const { published, contended } = await this.drainOnce(shards);
        // Another relay holds these shards right now; look again shortly.
        if (contended.length > 0) this.later(contended, CONTENDED_RETRY_MS);
        if (published === BATCH) for (const s of shards) this.pending.add(s);
        else if (!all) {
          this.lastPass = performance.now();
          return;
        }
      } catch (err) {
        this.log.warn({ err }, 'outbox relay failed; retrying');
        this.later(shards, FAILURE_RETRY_MS);
        return;
      }
    }
  }

  /** One batch in one transaction: lock the shards, publish, delete what the stream acknowledged. */
  private async drainOnce(shards: number[]): Promise<{ published: number; contended: number[] }> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const locked = await client.query<{ shard: number }>({
        name: 'outbox.lock-shards',
        text: 'SELECT s AS shard FROM unnest($1::int[]) AS s WHERE pg_try_advisory_xact_lock($2, s)',
        values: [shards, LOCK_CLASS],
      });
      const mine = locked.rows.map((r) => r.shard);
      const contended = shards.filter((s) => !mine.includes(s));
      const { rows } =
        mine.length === 0
          ? { rows: [] }
          : await client.query<{ seq: string; id: string; subject: string; payload: string }>({
              name: 'outbox.next',
              text: 'SELECT seq, id, subject, payload FROM outbox WHERE shard = ANY($1::int[]) ORDER BY seq LIMIT $2',
              values: [mine, BATCH],
            });
      if (rows.length > 0) {
        // Sent in order on one connection; the stream stores them in that order.
        await Promise.all(rows.map((r) => this.js.publish(r.subject, r.payload, { msgID: r.id })));
        await client.query({
          name: 'outbox.delete',
          text: 'DELETE FROM outbox WHERE seq = ANY($1::bigint[])',
          values: [rows.map((r) => r.seq)],
        });
      }
      await client.query('COMMIT');
      return { published: rows.length, contended };
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Stops polling and publishes what is left of its own shards. */
  async stop(): Promise<void> {
    clearInterval(this.poller);
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    for (const s of this.shards) this.pending.add(s);
    await this.drain(true);
    this.stopped = true;
  }
}
