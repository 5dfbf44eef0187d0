// What an operator can ask of one supervisor, whichever door they come in by
// (the admin HTTP endpoint or the NATS service): read its pools and the shard
// map, restart or scale a pool, drain. Business-like refusals (no such pool,
// already drained) are outcomes with problem codes, as in the actors.
import { ok, refuse, type Outcome, type PoolsReply, type ShardsReply } from '../protocol/index.js';
import type { Logger } from '../platform/logger.js';
import type { ActorPool } from './actor-pool.js';
import type { ShardLeases } from './shard-leases.js';

export type SupervisorState = PoolsReply['state'];

export class SupervisorControl {
  private state: SupervisorState = 'running';
  private draining?: Promise<void>;

  constructor(
    private readonly pools: () => readonly ActorPool[],
    private readonly leases: ShardLeases,
    private readonly log: Logger,
    /** Domain messages each consumer kind has not yet acknowledged (its lag), by kind. */
    private readonly lag: () => Promise<ReadonlyMap<string, number>> = async () => new Map(),
  ) {}

  get current(): SupervisorState {
    return this.state;
  }

  async report(): Promise<PoolsReply> {
    const lag = await this.lag().catch((err: unknown) => {
      this.log.warn({ err }, 'consumer lag not read for this report');
      return undefined;
    });
    return {
      supervisor: { ...this.leases.me },
      state: this.state,
      pools: await Promise.all(
        this.pools().map(async (p) => ({ ...(await p.report()), lag: lag ? (lag.get(p.kind) ?? null) : null })),
      ),
    };
  }

  shards(): Promise<ShardsReply> {
    return this.leases.read();
  }

  private find(kind: string): ActorPool | undefined {
    return this.pools().find((p) => p.kind === kind);
  }

  async restart(kind: string): Promise<Outcome<PoolsReply['pools'][number]>> {
    const pool = this.find(kind);
    if (!pool)
      return refuse(
        'NOT_FOUND',
        `no pool "${kind}"; pools: ${this.pools()
          .map((p) => p.kind)
          .join(', ')}`,
      );
    if (this.state !== 'running') return refuse('UNAVAILABLE', `supervisor is ${this.state}`);
    this.log.info({ actor: kind }, 'rolling restart requested');
    await pool.restart();
    this.log.info({ actor: kind }, 'rolling restart done');
    return ok(await pool.report());
  }

  async scale(kind: string, threads: number): Promise<Outcome<PoolsReply['pools'][number]>> {
    const pool = this.find(kind);
    if (!pool)
      return refuse(
        'NOT_FOUND',
        `no pool "${kind}"; pools: ${this.pools()
          .map((p) => p.kind)
          .join(', ')}`,
      );
    if (this.state !== 'running') return refuse('UNAVAILABLE', `supervisor is ${this.state}`);
    this.log.info({ actor: kind, threads }, 'scale requested');
    await pool.scale(threads);
    return ok(await pool.report());
  }

  /**
   * Hands the shard leases back (other supervisors take them at their next
   * round), then lets every pool stop taking work and finish what is in flight.
   * The process stays up, answering the admin endpoint, until it is stopped.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      this.state = 'draining';
      this.log.info('draining: releasing shard leases and finishing work in flight');
      await this.leases.releaseAll();
      await Promise.all(this.pools().map((p) => p.stop()));
      this.state = 'drained';
      this.log.info('drained');
    })();
    return this.draining;
  }
}
