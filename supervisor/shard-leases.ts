// Shard ownership across supervisors, through leases in a JetStream KV bucket.
// nats-server before 2.11 ignores per-key TTLs, so a lease is a key in a bucket
// whose max_age is the lease TTL: the holder renews it with a compare-and-set
// update (revision) every quarter TTL, and a holder that dies stops renewing,
// so its keys age out and the others claim them with a create. Supervisors
// announce themselves the same way, and each claims no more than its fair
// share, ceil(shards / live supervisors), releasing any surplus, so a second
// supervisor ends up with half. An overlap (a slow holder that has not yet
// noticed its loss) is safe: the three booking locks serialise the writes.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KV, KvEntry, NatsConnection } from 'nats';
import {
  MEMBER_KEYS,
  SHARD_LEASE_BUCKET,
  leaseKey,
  memberKey,
  type LeaseValue,
  type MemberValue,
  type ShardsReply,
} from '../protocol/index.js';
import type { Logger } from '../platform/logger.js';
import { allShards, sameShards } from './shard-plan.js';

export interface LeaseOptions {
  shards: number;
  ttlMs: number;
  adminUrl: () => string | null;
  /** Which slot and thread of each sharded pool serve a shard, written into its lease. */
  placement: (shard: number) => LeaseValue['pools'];
  /** Called with the new set whenever a round changes it; not awaited, so renewals never wait for a re-plan. */
  onChange: (held: number[]) => void;
  log: Logger;
}

const json = (entry: KvEntry | null): unknown => (entry && entry.operation === 'PUT' ? entry.json() : null);

export class ShardLeases {
  readonly me: MemberValue;
  private kv?: KV;
  /** shard → revision of our lease, for the compare-and-set renewal. */
  private held = new Map<number, number>();
  private acquiredAt = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: LeaseOptions,
  ) {
    const host = hostname();
    const id = `${host}-${process.pid}-${randomBytes(3).toString('hex')}`.replace(/[^A-Za-z0-9_-]/g, '_');
    this.me = { id, host, pid: process.pid, startedAt: Date.now(), adminUrl: null };
  }

  /** Opens the bucket, announces this supervisor, claims its share and keeps the leases renewed. */
  async start(): Promise<number[]> {
    const kv = await this.nc.jetstream().views.kv(SHARD_LEASE_BUCKET, { ttl: this.o.ttlMs, history: 1 });
    const status = await kv.status();
    if (status.ttl !== this.o.ttlMs) {
      // The bucket outlives processes; the TTL configured now wins.
      const jsm = await this.nc.jetstreamManager();
      await jsm.streams.update(status.streamInfo.config.name, { max_age: this.o.ttlMs * 1_000_000 });
    }
    this.kv = kv;
    await this.tick();
    this.schedule();
    return this.shards();
  }

  /** One round after another, never two at once, however slow NATS is. */
  private schedule(): void {
    // Every quarter TTL from the start of the last round, not from its end: a round slowed by a
    // busy machine must not push the next renewal towards the expiry.
    const began = Date.now();
    this.timer = setTimeout(
      () => {
        this.ticking = this.tick().finally(() => {
          if (!this.stopped) this.schedule();
        });
      },
      Math.max(0, this.o.ttlMs / 4 - (Date.now() - began)),
    );
  }

  shards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private async tick(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return;
    try {
      await kv.put(memberKey(this.me.id), JSON.stringify({ ...this.me, adminUrl: this.o.adminUrl() }));
      const [members, leases] = await Promise.all([this.readMembers(kv), this.readLeases(kv)]);
      if (this.stopped) return;
      const before = this.shards();
      const fair = Math.ceil(this.o.shards / Math.max(1, members.length));
      // All renewals at once: one round trip, however many shards, so a slow NATS or a busy
      // event loop does not let the last of sixteen sequential updates miss the TTL.
      await Promise.all(
        [...leases]
          .filter(([shard]) => this.held.has(shard))
          .map(async ([shard, entry]) => {
            const holder = (json(entry) as LeaseValue | null)?.owner;
            if (holder === this.me.id) await this.renew(kv, shard, entry!.revision);
            else if (holder === undefined) await this.claim(kv, shard);
            else this.lose(shard, holder);
          }),
      );
      for (const shard of this.shards().slice(fair)) await this.release(kv, shard);
      for (const [shard, entry] of leases) {
        if (this.held.size >= fair) break;
        if (!this.held.has(shard) && json(entry) === null) await this.claim(kv, shard);
      }
      const after = this.shards();
      if (!sameShards(before, after)) {
        this.o.log.info({ held: after, members: members.length, fairShare: fair }, 'shard leases changed');
        this.o.onChange(after);
      }
    } catch (err) {
      // NATS restarting or JetStream busy: keep serving what we hold and try again next tick.
      this.o.log.warn({ err }, 'shard lease round failed; retrying');
    }
  }

  private async readMembers(kv: KV): Promise<MemberValue[]> {
    const keys: string[] = [];
    for await (const key of await kv.keys(MEMBER_KEYS)) keys.push(key);
    const values = await Promise.all(keys.map(async (k) => json(await kv.get(k)) as MemberValue | null));
    return values.filter((v): v is MemberValue => v !== null);
  }

  private async readLeases(kv: KV): Promise<Map<number, KvEntry | null>> {
    const entries = await Promise.all(allShards(this.o.shards).map((s) => kv.get(leaseKey(s))));
    return new Map(entries.map((e, shard) => [shard, e]));
  }

  private value(shard: number): string {
    const acquiredAt = this.acquiredAt.get(shard) ?? Date.now();
    return JSON.stringify({
      owner: this.me.id,
      host: this.me.host,
      pid: this.me.pid,
      acquiredAt,
      pools: this.o.placement(shard),
    } satisfies LeaseValue);
  }

  private async claim(kv: KV, shard: number): Promise<void> {
    // Re-taking a lease of ours that aged out keeps its first acquisition time.
    if (!this.acquiredAt.has(shard)) this.acquiredAt.set(shard, Date.now());
    try {
      this.held.set(shard, await kv.create(leaseKey(shard), this.value(shard)));
    } catch {
      // Another supervisor created it first: theirs.
      this.held.delete(shard);
      this.acquiredAt.delete(shard);
    }
  }

  private async renew(kv: KV, shard: number, revision: number): Promise<void> {
    try {
      this.held.set(shard, await kv.update(leaseKey(shard), this.value(shard), revision));
    } catch {
      // The revision moved: the lease aged out under a slow round (then nobody holds it and a
      // create takes it straight back, without a re-plan) or another supervisor has it now.
      await this.claim(kv, shard);
      if (!this.held.has(shard)) this.lose(shard, 'unknown');
    }
  }

  private lose(shard: number, to: string): void {
    this.held.delete(shard);
    this.acquiredAt.delete(shard);
    this.o.log.warn({ shard, to }, 'shard lease lost to another supervisor');
  }

  private async release(kv: KV, shard: number): Promise<void> {
    const revision = this.held.get(shard);
    this.held.delete(shard);
    this.acquiredAt.delete(shard);
    // Only our own revision: never delete a lease someone else has taken since.
    await kv.delete(leaseKey(shard), { previousSeq: revision }).catch(() => undefined);
  }

  /** Every shard's holder, as the bucket says now (GET /shards and the NATS service). */
  async read(): Promise<ShardsReply> {
    const kv = this.kv;
    if (!kv) return { shards: [], members: [] };
    const [members, leases] = await Promise.all([this.readMembers(kv), this.readLeases(kv)]);
    const now = Date.now();
    return {
      members,
      shards: [...leases].map(([shard, entry]) => {
        const lease = json(entry) as LeaseValue | null;
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
  async releaseAll(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const kv = this.kv;
    if (!kv) return;
    await Promise.all(this.shards().map((shard) => this.release(kv, shard)));
    await kv.delete(memberKey(this.me.id)).catch(() => undefined);
  }
}
