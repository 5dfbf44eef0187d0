// Shard ownership across supervisors, through leases in a JetStream KV bucket.
// The leases are kept by a thread of their own (lease-keeper.ts explains the
// protocol and why a partitioned supervisor stops serving a shard before
// anyone else can claim it); this is the supervisor's side of it. It turns
// the keeper's reports into pool changes: a graceful re-plan when the held set
// changes, and an immediate stop of the threads serving a fenced shard. If
// the keeper thread dies, every shard is fenced at once (nobody renews them
// any more) and a new keeper takes the leases that are still ours back.
import { Worker } from 'node:worker_threads';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { JetStreamManager, KV, NatsConnection } from 'nats';
import {
  SHARD_LEASE_BUCKET,
  leaseKey,
  type LeaseValue,
  type MemberValue,
  type ShardsReply,
} from '../protocol/index.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { KeeperCommand, KeeperReport } from './lease-keeper.js';
import type { KeeperThreadData } from './lease-keeper-thread.js';
import { readMembers, valueOf } from './lease-members.js';
import { allShards, sameShards } from './shard-plan.js';

const KEEPER_THREAD = new URL('./lease-keeper-thread.js', import.meta.url);
/** Before a dead keeper is replaced: a keeper that dies at once does not spin. */
const KEEPER_RESTART_MS = 1_000;

export interface LeaseOptions {
  /** The keeper thread's NATS connection, shard count, lease TTL and log level. */
  config: Config;
  /** Each shard's write deadline, handed to the keeper thread (platform/lease-deadlines.ts). */
  leaseDeadlines: SharedArrayBuffer;
  adminUrl: () => string | null;
  /** Which slot and thread of each sharded pool serve a shard, written into its lease. */
  placement: (shard: number) => LeaseValue['pools'];
  /** Called with the new set whenever it changes; not awaited, so renewals never wait for a re-plan. */
  onChange: (held: number[]) => void;
  /** Called, before onChange, with shards to stop serving now, without draining (that needs NATS). */
  onFence: (shards: number[]) => void;
  log: Logger;
}

export class ShardLeases {
  readonly me: MemberValue;
  private kv?: KV;
  private jsm?: JetStreamManager;
  private keeper?: Worker;
  private held: number[] = [];
  private fenceCount = 0;
  private releasing?: Promise<void>;
  private released?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: LeaseOptions,
  ) {
    const host = hostname();
    const id = `${host}-${process.pid}-${randomBytes(3).toString('hex')}`.replace(/[^A-Za-z0-9_-]/g, '_');
    this.me = { id, host, pid: process.pid, startedAt: Date.now(), adminUrl: null };
  }

  /** Starts the keeper and resolves with the shards to serve once it has claimed its share. */
  async start(): Promise<number[]> {
    try {
      await this.launch();
    } catch (err) {
      this.releasing = Promise.resolve();
      await this.keeper?.terminate();
      throw err;
    }
    this.kv = await this.nc.jetstream().views.kv(SHARD_LEASE_BUCKET, { bindOnly: true });
    this.jsm = await this.nc.jetstreamManager({ checkAPI: false });
    // What the lease values and the member entry say; stale for a moment is harmless.
    this.timer = setInterval(() => this.tellKeeper(), this.o.config.leaseTtlMs / 4);
    return this.shards();
  }

  shards(): number[] {
    return [...this.held];
  }

  /** Shards fenced since start: a lease not renewed in time, or taken by another supervisor while served. */
  get fences(): number {
    return this.fenceCount;
  }

  private launch(): Promise<void> {
    const keeper = new Worker(KEEPER_THREAD, {
      workerData: {
        config: this.o.config,
        me: this.me,
        leaseDeadlines: this.o.leaseDeadlines,
      } satisfies KeeperThreadData,
    });
    this.keeper = keeper;
    return new Promise<void>((resolve, reject) => {
      keeper.on('message', (r: KeeperReport) => {
        if (r.type === 'failed') reject(new Error(`the lease keeper failed: ${r.message}`));
        else if (r.type === 'released') this.released?.();
        else {
          this.report(r);
          resolve();
        }
      });
      keeper.on('error', (err) => {
        reject(err);
        this.keeperDied(keeper, err);
      });
      keeper.on('exit', (code) => {
        reject(new Error(`the lease keeper exited (${code}) before it started`));
        this.keeperDied(keeper, new Error(`exited (${code})`));
      });
    });
  }

  private tellKeeper(): void {
    const pools = Object.fromEntries(allShards(this.o.config.shards).map((s) => [s, this.o.placement(s)]));
    this.keeper?.postMessage({ type: 'placement', pools } satisfies KeeperCommand);
    this.keeper?.postMessage({ type: 'member', adminUrl: this.o.adminUrl() } satisfies KeeperCommand);
  }

  private report(r: Extract<KeeperReport, { type: 'held' }>): void {
    if (this.releasing) return;
    if (r.fenced.length > 0) this.fence(r.fenced, 'the lease keeper fenced shards; their threads stop at once');
    if (sameShards(this.held, r.held)) return;
    this.held = r.held;
    this.o.onChange(this.shards());
  }

  private fence(fenced: { shard: number; revision?: number }[], why: string): void {
    this.fenceCount += fenced.length;
    this.held = this.held.filter((shard) => !fenced.some((f) => f.shard === shard));
    this.o.log.warn({ fenced }, why);
    this.o.onFence(fenced.map((f) => f.shard));
  }

  private keeperDied(keeper: Worker, err: Error): void {
    if (this.releasing || this.keeper !== keeper) return;
    this.keeper = undefined;
    this.o.log.error({ err }, 'the lease keeper thread died; starting another');
    if (this.held.length > 0) {
      this.fence(
        this.held.map((shard) => ({ shard })),
        'nobody renews the leases now: their threads stop at once',
      );
      this.o.onChange(this.shards());
    }
    setTimeout(() => {
      if (this.releasing) return;
      this.launch().then(
        () => this.tellKeeper(),
        (launchErr: unknown) => this.o.log.error({ err: launchErr }, 'the new lease keeper failed to start'),
      );
    }, KEEPER_RESTART_MS).unref();
  }

  /** Every shard's holder, as the bucket says now (GET /shards and the NATS service). */
  async read(): Promise<ShardsReply> {
    const { kv, jsm } = this;
    if (!kv || !jsm) return { shards: [], members: [] };
    const [members, leases] = await Promise.all([
      readMembers(jsm, kv),
      Promise.all(allShards(this.o.config.shards).map((s) => kv.get(leaseKey(s)))),
    ]);
    const now = Date.now();
    return {
      members,
      shards: leases.map((entry, shard) => {
        const lease = valueOf(entry) as LeaseValue | null;
        if (!lease || !entry) return { shard, owner: null };
        return {
          shard,
          owner: {
            id: lease.owner,
            host: lease.host,
            pid: lease.pid,
            pools: lease.pools,
            heldForMs: Math.max(0, now - lease.acquiredAt),
            renewedAgoMs: Math.max(0, now - entry.created.getTime()),
          },
        };
      }),
    };
  }

  /** Stops renewing and hands every lease back at once, so other supervisors take the shards now, not after the TTL. */
  releaseAll(): Promise<void> {
    this.releasing ??= (async () => {
      clearInterval(this.timer);
      const keeper = this.keeper;
      if (!keeper) return;
      const done = new Promise<void>((resolve) => {
        this.released = resolve;
        keeper.once('exit', () => resolve());
      });
      keeper.postMessage({ type: 'release' } satisfies KeeperCommand);
      await done;
      await keeper.terminate();
    })();
    return this.releasing;
  }
}
