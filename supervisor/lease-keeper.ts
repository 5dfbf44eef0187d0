// The shard leases of one supervisor, kept on a thread of their own (see
// lease-keeper-thread.ts) with a NATS connection of their own, so that a busy
// main thread (edge, re-plans, scrapes, logs) never delays a renewal.
//
// Leases live in a JetStream KV bucket whose max_age is the lease TTL
// (nats-server before 2.11 ignores per-key TTLs): the holder renews each lease
// with a compare-and-set update (revision) every eighth of the TTL, each shard
// on its own so one slow request never holds up another. A balance round every
// quarter TTL announces this supervisor, claims free leases up to its fair
// share, ceil(shards / live supervisors), and releases any surplus.
//
// No two writers after a partition: a lease is SERVED only while
//   now − (when its last acknowledged renewal was sent) < TTL − margin,
// on this thread's monotonic clock. The server ages the entry from when it
// stored that renewal, which is after we sent it, so the entry lives at least
// until sent + TTL; nobody can create the key before then. The keeper fences
// (stops serving) at sent + TTL − margin: `margin` is the time the supervisor
// gets to terminate the threads serving the shard (this thread's timer being
// late, the main thread's event loop, the termination itself). A claimer
// serves a lease only `grace` after its create was acknowledged, which adds
// to that budget and covers the difference of clock rates between this
// machine and the server's (small next to the margin). So the fenced side has
// stopped before the claimer starts if fence latency < margin + grace. A fenced
// lease that is still ours on the server (renewals late, not lost) is renewed
// on and served again at once: a CAS update on our revision proves nobody else
// held it meanwhile. Each shard's deadline (sent + TTL − margin) is also
// published to the actor threads, which refuse to commit past it themselves
// (platform/lease-deadlines.ts), so a main thread too busy to end them in time
// does not make a second writer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamManager, KV, KvEntry, NatsConnection } from 'nats';
import { SHARD_LEASE_BUCKET, leaseKey, memberKey, type LeaseValue, type MemberValue } from '../protocol/index.js';
import { monotonicMs, type LeaseDeadlines } from '../platform/lease-deadlines.js';
import type { Logger } from '../platform/logger.js';
import { readMembers, valueOf } from './lease-members.js';
import { allShards, sameShards } from './shard-plan.js';

/** The timing of the protocol, all derived from the TTL so the argument above holds for any TTL. */
export function leaseTiming(ttlMs: number) {
  return {
    renewEveryMs: ttlMs / 8,
    balanceEveryMs: ttlMs / 4,
    /** Served until this long after the last acknowledged renewal was sent. */
    serveForMs: ttlMs - ttlMs / 4,
    /** A claimed lease is served only this long after its create was acknowledged. */
    graceMs: ttlMs / 10,
    /** A renewal not answered in this time is given up; the next one is sent. */
    requestTimeoutMs: ttlMs / 2,
    checkEveryMs: Math.min(250, Math.max(25, ttlMs / 40)),
  };
}

/** Keeper → supervisor: what to serve now; `fenced` shards stop at once (no drain: it needs NATS). */
export type KeeperReport =
  | {
      type: 'held';
      held: number[];
      fenced: { shard: number; revision: number; sinceRenewalMs: number }[];
      revisions: Record<number, number>;
    }
  | { type: 'failed'; message: string }
  | { type: 'released' };

/** Supervisor → keeper. */
export type KeeperCommand =
  | { type: 'member'; adminUrl: string | null }
  | { type: 'placement'; pools: Record<number, LeaseValue['pools']> }
  | { type: 'release' };

interface Lease {
  revision: number;
  /** Monotonic time the last acknowledged renewal (or create) was sent. */
  sentAt: number;
  /** Monotonic time from which a claimed lease may be served (create ack + grace). */
  servedFrom: number;
  acquiredAt: number;
}

const ownerOf = (entry: KvEntry | null): string | undefined => (valueOf(entry) as LeaseValue | null)?.owner;
/** The clock the actor threads check deadlines on. */
const now = monotonicMs;
/** The server refused a compare-and-set ("wrong last sequence"): the key's revision is not the one we sent. */
const wrongRevision = (err: unknown) => (err as { api_error?: { err_code?: number } }).api_error?.err_code === 10071;

export class LeaseKeeper {
  private kv?: KV;
  private jsm?: JetStreamManager;
  private readonly leases = new Map<number, Lease>();
  /** One operation per shard at a time (renew, claim, release), in order. */
  private readonly queue = new Map<number, Promise<void>>();
  private readonly renewing = new Set<number>();
  private placement: Record<number, LeaseValue['pools']> = {};
  private adminUrl: string | null = null;
  private served: number[] = [];
  /** Shards another supervisor took while we served them: stopped at once, like a fence. */
  private readonly lost = new Map<number, number>();
  private timers: NodeJS.Timeout[] = [];
  private balancing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The fair share of the last balance round, for the logs. */
  private fair = 0;
  private readonly t: ReturnType<typeof leaseTiming>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly me: MemberValue,
    private readonly o: {
      shards: number;
      ttlMs: number;
      log: Logger;
      report: (r: KeeperReport) => void;
      /** Where each shard's write deadline (last acknowledged renewal sent + serveForMs) is published. */
      deadlines: LeaseDeadlines;
    },
  ) {
    this.t = leaseTiming(o.ttlMs);
  }

  /** Opens the bucket, claims a share, waits out the claim grace and reports what to serve. */
  async start(): Promise<void> {
    const kvOptions = { ttl: this.o.ttlMs, history: 1, timeout: this.t.requestTimeoutMs };
    const kv = await this.nc.jetstream({ timeout: this.t.requestTimeoutMs }).views.kv(SHARD_LEASE_BUCKET, kvOptions);
    const status = await kv.status();
    const jsm = await this.nc.jetstreamManager({ timeout: this.t.requestTimeoutMs, checkAPI: false });
    if (status.ttl !== this.o.ttlMs) {
      // The bucket outlives processes; the TTL configured now wins.
      await jsm.streams.update(status.streamInfo.config.name, { max_age: this.o.ttlMs * 1_000_000 });
    }
    this.kv = kv;
    this.jsm = jsm;
    await this.balance();
    await sleep(this.t.graceMs);
    this.check(true);
    this.timers.push(
      setInterval(() => this.renewAll(), this.t.renewEveryMs),
      setInterval(() => this.check(false), this.t.checkEveryMs),
      setInterval(() => {
        // One round at a time: a round stalled on NATS is not doubled up, and renewals go on meanwhile.
        this.balancing = this.balancing.then(() => this.balance());
      }, this.t.balanceEveryMs),
    );
  }

  command(c: KeeperCommand): void {
    if (c.type === 'member') this.adminUrl = c.adminUrl;
    else if (c.type === 'placement') this.placement = c.pools;
    else void this.releaseAll().finally(() => this.o.report({ type: 'released' }));
  }

  private one(shard: number, step: (kv: KV) => Promise<void>): Promise<void> {
    const kv = this.kv;
    if (!kv) return Promise.resolve();
    const run = (this.queue.get(shard) ?? Promise.resolve())
      .then(() => (this.stopped ? undefined : step(kv)))
      .catch((err: unknown) => this.o.log.warn({ err, shard }, 'shard lease step failed; retrying'));
    this.queue.set(shard, run);
    return run;
  }

  private renewAll(): void {
    for (const shard of this.leases.keys()) {
      if (this.renewing.has(shard)) continue;
      this.renewing.add(shard);
      void this.one(shard, (kv) => this.renew(kv, shard)).finally(() => this.renewing.delete(shard));
    }
  }

  private value(shard: number, acquiredAt: number): string {
    return JSON.stringify({
      owner: this.me.id,
      host: this.me.host,
      pid: this.me.pid,
      acquiredAt,
      pools: this.placement[shard] ?? {},
    } satisfies LeaseValue);
  }

  private async renew(kv: KV, shard: number): Promise<void> {
    const lease = this.leases.get(shard);
    if (!lease) return;
    const sentAt = now();
    try {
      lease.revision = await kv.update(leaseKey(shard), this.value(shard, lease.acquiredAt), lease.revision);
      lease.sentAt = sentAt;
      this.o.deadlines.extend(shard, sentAt + this.t.serveForMs);
    } catch (err) {
      // A timeout or a reconnect: the next renewal tries again; the fence decides if it is too late.
      if (!wrongRevision(err)) return;
      const entry = await kv.get(leaseKey(shard));
      const owner = ownerOf(entry);
      // Our own write whose answer we missed: carry on from its revision (it proves nothing about when it was stored).
      if (owner === this.me.id && entry) lease.revision = entry.revision;
      // Aged out: nobody created it since (or they released it), so a create takes it back.
      else if (owner === undefined) await this.claim(kv, shard, lease.acquiredAt);
      else this.lose(shard, owner);
    }
  }

  private async claim(kv: KV, shard: number, acquiredAt = Date.now()): Promise<void> {
    const sentAt = now();
    try {
      const revision = await kv.create(leaseKey(shard), this.value(shard, acquiredAt));
      const acked = now();
      this.leases.set(shard, { revision, sentAt, servedFrom: acked + this.t.graceMs, acquiredAt });
      this.o.deadlines.extend(shard, sentAt + this.t.serveForMs);
      this.o.log.info({ shard, revision }, 'shard lease claimed');
      // Served as soon as the grace is over, not at the next check.
      setTimeout(() => this.check(false), this.t.graceMs + 1).unref();
    } catch (err) {
      if (!wrongRevision(err)) throw err;
      // Another supervisor created it first: theirs.
      if (this.leases.has(shard)) this.lose(shard, 'unknown');
    }
  }

  private lose(shard: number, to: string): void {
    const revision = this.leases.get(shard)?.revision ?? 0;
    this.leases.delete(shard);
    this.o.deadlines.revoke(shard);
    this.lost.set(shard, revision);
    this.o.log.warn({ shard, to, revision }, 'shard lease lost to another supervisor');
    this.check(false);
  }

  private async release(kv: KV, shard: number): Promise<void> {
    const lease = this.leases.get(shard);
    this.leases.delete(shard);
    this.o.log.info(
      { shard, revision: lease?.revision, fairShare: this.fair },
      'shard lease released: above the fair share',
    );
    // Only our own revision: never delete a lease someone else has taken since.
    if (lease) await kv.delete(leaseKey(shard), { previousSeq: lease.revision }).catch(() => undefined);
  }

  private async balance(): Promise<void> {
    const { kv, jsm } = this;
    if (!kv || !jsm || this.stopped) return;
    try {
      await kv.put(memberKey(this.me.id), JSON.stringify({ ...this.me, adminUrl: this.adminUrl }));
      const [members, leases] = await Promise.all([readMembers(jsm, kv), this.readLeases(kv)]);
      const fair = Math.ceil(this.o.shards / Math.max(1, members.length));
      this.fair = fair;
      for (const [shard, entry] of leases) {
        const owner = ownerOf(entry);
        if (this.leases.has(shard) && owner !== undefined && owner !== this.me.id) this.lose(shard, owner);
        // Ours on the server but not here (a keeper that replaced a dead one): renewed, then served.
        if (!this.leases.has(shard) && owner === this.me.id && entry && this.leases.size < fair) {
          const acquiredAt = (valueOf(entry) as LeaseValue).acquiredAt;
          this.leases.set(shard, { revision: entry.revision, sentAt: -Infinity, servedFrom: 0, acquiredAt });
        }
      }
      const surplus = [...this.leases.keys()].sort((a, b) => a - b).slice(fair);
      await Promise.all(surplus.map((shard) => this.one(shard, (k) => this.release(k, shard))));
      const free = [...leases].filter(([shard, entry]) => !this.leases.has(shard) && valueOf(entry) === null);
      const wanted = free.slice(0, Math.max(0, fair - this.leases.size)).map(([shard]) => shard);
      await Promise.all(wanted.map((shard) => this.one(shard, (k) => this.claim(k, shard))));
      if (surplus.length > 0) this.check(false);
    } catch (err) {
      // NATS restarting or JetStream busy: renewals go on, and the next round tries again.
      this.o.log.warn({ err }, 'shard lease round failed; retrying');
    }
  }

  private async readLeases(kv: KV): Promise<Map<number, KvEntry | null>> {
    const entries = await Promise.all(allShards(this.o.shards).map((s) => kv.get(leaseKey(s))));
    return new Map(entries.map((e, shard) => [shard, e]));
  }

  /** What may be served now; reports a change, naming the shards fenced because their renewals are late. */
  private check(force: boolean): void {
    if (this.stopped) return;
    const at = now();
    const serving = (l: Lease) => at - l.sentAt < this.t.serveForMs && at >= l.servedFrom;
    const held = [...this.leases].filter(([, l]) => serving(l)).map(([shard]) => shard);
    held.sort((a, b) => a - b);
    if (!force && sameShards(held, this.served)) return;
    const late = this.served.flatMap((shard) => {
      const l = this.leases.get(shard);
      return l && !serving(l) ? [{ shard, revision: l.revision, sinceRenewalMs: Math.round(at - l.sentAt) }] : [];
    });
    for (const f of late)
      this.o.log.warn(f, 'shard lease not renewed in time; stopped serving the shard before the lease can expire');
    // Lost while served (a fence should have come first; it did not if this thread was starved): stop at once too.
    const lost = this.served.flatMap((shard) => {
      const revision = this.lost.get(shard);
      return revision === undefined ? [] : [{ shard, revision, sinceRenewalMs: -1 }];
    });
    this.lost.clear();
    const fenced = [...late, ...lost];
    const revisions = Object.fromEntries(held.map((shard) => [shard, this.leases.get(shard)?.revision ?? 0]));
    this.served = held;
    this.o.log.info({ held, revisions, fairShare: this.fair }, 'shard leases changed');
    this.o.report({ type: 'held', held, fenced, revisions });
  }

  /** Stops renewing and hands every lease back at once, so others take the shards now, not after the TTL. */
  private async releaseAll(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.stopped = true;
    await this.balancing;
    const kv = this.kv;
    if (!kv) return;
    await Promise.all([...this.queue.values()]);
    await Promise.all(
      [...this.leases].map(([shard, l]) => kv.delete(leaseKey(shard), { previousSeq: l.revision }).catch(() => 0)),
    );
    this.leases.clear();
    await kv.delete(memberKey(this.me.id)).catch(() => undefined);
  }
}
