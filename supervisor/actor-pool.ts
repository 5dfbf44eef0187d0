// One piscina pool per actor kind. Each slot runs one long-lived task (an
// actor serving the slot's shards) on its own thread. When a thread dies its
// task rejects; the pool logs why and runs the slot again on a fresh thread
// after a backoff, so its shards are served again within moments.
// Operators and shard leases change a running pool one slot at a time: the
// new thread is serving before the old one drains, so nothing is dropped.
import { Piscina } from 'piscina';
import type { ActorKind, PoolReport } from '../protocol/index.js';
import type { ActorTask, ActorThreadData } from '../platform/actor-thread.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { MetricsSnapshot } from '../platform/metrics.js';
import { ActorThreadHandle } from './actor-thread-handle.js';
import { allShards, planShards, sameShards } from './shard-plan.js';
import { newPressureBuffer } from '../platform/pressure.js';

/** One set of pressure cells per process: every pool's threads share this machine's cores. */
const pressureCells = newPressureBuffer();

const ACTOR_THREAD = new URL('../platform/actor-thread.js', import.meta.url).href;
/** The module a kind's thread starts: the pool names it, so platform/ need not know where actors live. */
const actorModule = (kind: ActorKind): string => new URL(`../actors/${kind}/actor.js`, import.meta.url).href;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
const STABLE_AFTER_MS = 10_000;
/** Room for the largest pool plus one thread per slot being replaced; threads start only when used. */
const MAX_THREADS = 130;

interface Slot {
  index: number;
  shards: number[];
  thread?: ActorThreadHandle;
  restarts: number;
  failuresInARow: number;
  lastError?: string;
}

export interface PoolStatus {
  kind: ActorKind;
  threads: number;
  restarts: number;
  slots: { index: number; threadId: number | null; shards: number[]; restarts: number; lastError: string | null }[];
}

export class ActorPool {
  /** A sharded pool serves the shards this supervisor holds; the others serve only `any` subjects. */
  readonly sharded: boolean;
  private readonly piscina: Piscina<ActorTask, unknown>;
  private slots: Slot[] = [];
  /** Every thread not yet ended, including ones being replaced or still booting: a fence stops all of them. */
  private readonly live = new Set<ActorThreadHandle>();
  private held: number[];
  private threads: number;
  /** Never goes down, even when a shrink removes slots that had restarted. */
  private restarts = 0;
  private started = false;
  private stopping?: Promise<void>;
  /** Start, restart, scale and re-plans run one after another. */
  private changes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly kind: ActorKind,
    threads: number,
    shards: number,
    config: Config,
    private readonly log: Logger,
    /** Clean-up for what a dead thread left behind (its booking locks, say), run before its slot restarts. */
    private readonly afterDeath: (threadId: number) => Promise<void> = async () => undefined,
    /** Sharded pools: the lease deadlines every thread checks before a commit (platform/lease-deadlines.ts). */
    leaseDeadlines?: SharedArrayBuffer,
  ) {
    this.sharded = shards > 0;
    this.held = allShards(shards);
    this.threads = threads;
    this.piscina = new Piscina({
      filename: ACTOR_THREAD,
      minThreads: 0,
      maxThreads: MAX_THREADS,
      concurrentTasksPerWorker: 1,
      // Serving threads are never idle; one that is (drained, not yet terminated) is not kept.
      idleTimeout: 1_000,
      // An idle worker blocked in Atomics.wait stops serving its NATS subscription.
      atomics: 'disabled',
      workerData: {
        kind,
        module: actorModule(kind),
        config,
        pressure: pressureCells,
        leaseDeadlines: this.sharded ? leaseDeadlines : undefined,
      } satisfies ActorThreadData,
    });
  }

  /** Starts every slot and resolves when each thread reports it is serving. */
  start(): Promise<void> {
    this.started = true;
    return this.change(() => this.reconcile());
  }

  /** Rolling restart: each slot gets a fresh thread, serving before the old one drains. */
  restart(): Promise<void> {
    return this.change(async () => {
      for (const slot of [...this.slots]) await this.replace(slot, slot.shards);
    });
  }

  /** Grows or shrinks the pool live; the held shards are planned over the new slots. */
  scale(threads: number): Promise<void> {
    this.threads = threads;
    return this.change(() => this.reconcile());
  }

  /** The shards this supervisor now holds (from the shard leases); ignored by pools that are not sharded. */
  assignShards(held: readonly number[]): Promise<void> {
    if (!this.sharded) return Promise.resolve();
    this.held = [...held].sort((a, b) => a - b);
    return this.started ? this.change(() => this.reconcile()) : Promise.resolve();
  }

  /**
   * Shards whose leases went unrenewed (or were taken while served): every
   * thread serving one of them is terminated now, without draining (that
   * needs NATS, which may be out of reach), so this supervisor serves none of
   * them by the time another may claim them. What those threads had in flight
   * is answered by nobody; callers retry with the same idempotency key. The
   * re-plan that follows starts threads for the shards still held.
   */
  fence(lost: readonly number[]): void {
    if (!this.sharded) return;
    this.held = this.held.filter((shard) => !lost.includes(shard));
    for (const thread of this.live) {
      if (!thread.alive || !thread.shards.some((shard) => lost.includes(shard))) continue;
      thread.fence();
      // No thread in its slot: its end below is not a crash to restart from.
      for (const slot of this.slots) if (slot.thread === thread) slot.thread = undefined;
      this.log.warn(
        { actor: this.kind, thread: thread.threadId, shards: thread.shards },
        'fenced: thread stopped at once',
      );
      const worker = this.piscina.threads.find((w) => w.threadId === thread.threadId);
      // Still booting (no thread id yet): it dies at its first look at the control port, before it serves.
      if (!worker || thread.threadId === undefined) {
        thread.crash();
        continue;
      }
      const threadId = thread.threadId;
      void (async () => {
        await worker.terminate();
        this.log.warn({ actor: this.kind, thread: threadId }, 'fenced: thread ended');
        await this.afterDeath(threadId);
      })().catch((err: unknown) => this.log.warn({ actor: this.kind, err }, 'clean-up after a fence failed'));
    }
  }

  private change(step: () => Promise<void>): Promise<void> {
    const run = this.changes.then(() => (this.stopping ? undefined : step()));
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async reconcile(): Promise<void> {
    const plan = planShards(this.sharded ? this.held : [], this.threads);
    const failures: unknown[] = [];
    for (const [index, shards] of plan.entries()) {
      const slot = this.slots[index] ?? { index, shards, restarts: 0, failuresInARow: 0 };
      if (slot.thread && sameShards(slot.shards, shards)) continue;
      this.slots[index] = slot;
      await this.replace(slot, shards).catch((err: unknown) => failures.push(err));
    }
    for (const extra of this.slots.splice(plan.length)) await this.retire(extra.thread);
    if (failures.length > 0) throw failures[0];
  }

  /** Starts the slot's next thread, waits until it serves, then drains the previous one. */
  private async replace(slot: Slot, shards: number[]): Promise<void> {
    const previous = slot.thread;
    slot.shards = shards;
    const next = this.launch(slot);
    try {
      await next.ready;
    } catch (err) {
      slot.lastError = (err as Error).message;
      // Same shards: the old thread keeps serving and the failed one is forgotten.
      if (previous?.alive && sameShards(previous.shards, shards)) {
        slot.thread = previous;
        void this.retire(next);
      } else {
        await this.retire(previous);
      }
      throw err;
    }
    await this.retire(previous);
  }

  private launch(slot: Slot): ActorThreadHandle {
    const thread = new ActorThreadHandle(this.piscina, slot.shards, `${this.kind} slot ${slot.index}`);
    slot.thread = thread;
    this.live.add(thread);
    void thread.ended.then(() => this.live.delete(thread));
    void thread.ended.then((err) => err && this.onThreadDeath(slot, thread, err));
    return thread;
  }

  private async retire(thread: ActorThreadHandle | undefined): Promise<void> {
    if (!thread) return;
    await thread.retire();
    // The drained worker would otherwise sit idle in piscina; a restart means a fresh thread.
    await this.piscina.threads.find((w) => w.threadId === thread.threadId)?.terminate();
  }

  private async onThreadDeath(slot: Slot, dead: ActorThreadHandle, err: Error): Promise<void> {
    slot.lastError = err.message;
    if (this.stopping || slot.thread !== dead) return;
    if (dead.threadId !== undefined) {
      await this.afterDeath(dead.threadId).catch((cleanupErr: unknown) =>
        this.log.warn({ actor: this.kind, err: cleanupErr }, 'clean-up after thread death failed'),
      );
    }
    slot.failuresInARow = Date.now() - dead.startedAt > STABLE_AFTER_MS ? 1 : slot.failuresInARow + 1;
    slot.restarts++;
    this.restarts++;
    const delay = Math.min(BACKOFF_MIN_MS * 2 ** (slot.failuresInARow - 1), BACKOFF_MAX_MS);
    this.log.error(
      {
        actor: this.kind,
        slot: slot.index,
        thread: dead.threadId,
        shards: slot.shards,
        reason: err.message,
        restartInMs: delay,
      },
      'actor thread died; replacing it',
    );
    await new Promise((r) => setTimeout(r, delay));
    // Meanwhile a re-plan may have replaced the thread or removed the slot.
    if (this.stopping || slot.thread !== dead || this.slots[slot.index] !== slot) return;
    const next = this.launch(slot);
    try {
      await next.ready;
      this.log.info(
        { actor: this.kind, slot: slot.index, thread: next.threadId, shards: slot.shards },
        'shards served again',
      );
    } catch (launchErr) {
      this.log.error({ actor: this.kind, slot: slot.index, err: launchErr }, 'replacement thread failed to start');
    }
  }

  /** Chaos and drills: make the thread serving `shard` die as a crash would. */
  crashShardOwner(shard: number): number | undefined {
    const slot = this.slots.find((s) => s.shards.includes(shard)) ?? this.slots[0];
    const threadId = slot?.thread?.threadId;
    slot?.thread?.crash();
    return threadId;
  }

  /** Which slot and thread serve each shard, for the lease values and GET /shards. */
  placement(): Map<number, { slot: number; thread: number | null }> {
    const out = new Map<number, { slot: number; thread: number | null }>();
    for (const s of this.slots)
      for (const shard of s.shards) out.set(shard, { slot: s.index, thread: s.thread?.threadId ?? null });
    return out;
  }

  status(): PoolStatus {
    return {
      kind: this.kind,
      threads: this.slots.filter((s) => s.thread?.alive).length,
      restarts: this.restarts,
      slots: this.slots.map((s) => ({
        index: s.index,
        threadId: s.thread?.threadId ?? null,
        shards: s.shards,
        restarts: s.restarts,
        lastError: s.lastError ?? null,
      })),
    };
  }

  /** status() plus each thread's requests in flight, asked of the threads themselves. */
  async report(): Promise<PoolReport> {
    const status = this.status();
    const busy = await Promise.all(this.slots.map((s) => s.thread?.inFlight() ?? Promise.resolve(null)));
    const lastError = [...this.slots].reverse().find((s) => s.lastError)?.lastError ?? null;
    return {
      kind: this.kind,
      threads: status.threads,
      busy: busy.some((b) => b === null) ? null : busy.reduce<number>((n, b) => n + (b ?? 0), 0),
      restarts: status.restarts,
      shardsOwned: this.sharded ? [...this.held] : null,
      lastError,
      slots: status.slots.map((s, i) => ({
        index: s.index,
        thread: s.threadId,
        shards: s.shards,
        restarts: s.restarts,
        busy: busy[i] ?? null,
        lastError: s.lastError,
      })),
    };
  }

  /** Each live thread's metrics; a thread that does not answer in time is left out of this scrape. */
  async threadMetrics(): Promise<MetricsSnapshot[]> {
    const snapshots = await Promise.all(this.slots.map((s) => s.thread?.metrics() ?? Promise.resolve(null)));
    return snapshots.filter((m): m is MetricsSnapshot => m !== null);
  }

  /** Graceful: each actor stops taking work and finishes what is in flight, then the threads end. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.changes;
      await Promise.all(this.slots.map((s) => s.thread?.retire()));
      await this.piscina.destroy();
    })();
    return this.stopping;
  }
}
