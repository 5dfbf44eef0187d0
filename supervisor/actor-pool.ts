// One piscina pool per actor kind. Each thread runs one long-lived task (an
// actor serving its slot's shards). When a thread dies its task rejects; the
// pool logs why and runs the slot again on a fresh thread after a backoff,
// so its shards are served again within moments.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ActorKind } from '../actors/protocol/index.js';
import type { ActorTask, ActorThreadData, ControlMessage, ThreadReport } from '../actors/runtime/actor-thread.js';
import type { Config } from '../actors/runtime/config.js';
import type { Logger } from '../actors/runtime/logger.js';
import { planShards } from './shard-plan.js';

const ACTOR_THREAD = new URL('../actors/runtime/actor-thread.js', import.meta.url).href;
const READY_TIMEOUT_MS = 30_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
const STABLE_AFTER_MS = 10_000;

interface Slot {
  index: number;
  shards: number[];
  control?: MessagePort;
  threadId?: number;
  startedAt: number;
  restarts: number;
  failuresInARow: number;
  lastError?: string;
  done?: Promise<void>;
}

export interface PoolStatus {
  kind: ActorKind;
  threads: number;
  restarts: number;
  slots: { index: number; threadId: number | null; shards: number[]; restarts: number; lastError: string | null }[];
}

export class ActorPool {
  private readonly piscina: Piscina<ActorTask, { threadId: number }>;
  private readonly slots: Slot[];
  private stopping = false;

  constructor(
    readonly kind: ActorKind, threads: number, shards: number, config: Config, private readonly log: Logger,
    /** Clean-up for what a dead thread left behind (its booking locks, say), run before its slot restarts. */
    private readonly afterDeath: (threadId: number) => Promise<void> = async () => undefined,
  ) {
    this.piscina = new Piscina({
      filename: ACTOR_THREAD,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // An idle worker blocked in Atomics.wait stops serving its NATS subscription.
      atomics: 'disabled',
      workerData: { kind, config } satisfies ActorThreadData,
    });
    const plan = planShards(shards, threads);
    this.slots = plan.map((slotShards, index) => ({ index, shards: slotShards, startedAt: 0, restarts: 0, failuresInARow: 0 }));
  }

  /** Starts every slot and resolves when each thread reports it is serving. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.launch(slot)));
  }

  private launch(slot: Slot): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    slot.control = port1;
    slot.threadId = undefined;
    slot.startedAt = Date.now();
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} slot ${slot.index} not ready in ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      port1.on('message', (m: ThreadReport) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        slot.threadId = m.threadId;
        resolve();
      });
    });
    slot.done = this.piscina.run({ shards: slot.shards, control: port2 }, { transferList: [port2] as never })
      .then(() => undefined, (err: Error) => this.onThreadDeath(slot, err));
    return Promise.race([ready, slot.done.then(() => { if (!slot.threadId) throw new Error(slot.lastError ?? 'thread ended before ready'); })]);
  }

  private async onThreadDeath(slot: Slot, err: Error): Promise<void> {
    slot.control?.close();
    slot.lastError = err.message;
    if (this.stopping) return;
    if (slot.threadId !== undefined) {
      await this.afterDeath(slot.threadId).catch((cleanupErr: Error) =>
        this.log.warn({ actor: this.kind, err: cleanupErr }, 'clean-up after thread death failed'));
    }
    slot.failuresInARow = Date.now() - slot.startedAt > STABLE_AFTER_MS ? 1 : slot.failuresInARow + 1;
    slot.restarts++;
    const delay = Math.min(BACKOFF_MIN_MS * 2 ** (slot.failuresInARow - 1), BACKOFF_MAX_MS);
    this.log.error({ actor: this.kind, slot: slot.index, thread: slot.threadId, shards: slot.shards, reason: err.message, restartInMs: delay },
      'actor thread died; replacing it');
    await new Promise((r) => setTimeout(r, delay));
    if (this.stopping) return;
    try {
      await this.launch(slot);
      this.log.info({ actor: this.kind, slot: slot.index, thread: slot.threadId, shards: slot.shards }, 'shards served again');
    } catch (launchErr) {
      this.log.error({ actor: this.kind, slot: slot.index, err: launchErr }, 'replacement thread failed to start');
    }
  }

  /** Chaos and drills: make the thread serving `shard` die as a crash would. */
  crashShardOwner(shard: number): number | undefined {
    const slot = this.slots.find((s) => s.shards.includes(shard)) ?? this.slots[0];
    const threadId = slot.threadId;
    slot.control?.postMessage({ type: 'crash' } satisfies ControlMessage);
    return threadId;
  }

  status(): PoolStatus {
    return {
      kind: this.kind,
      threads: this.slots.length,
      restarts: this.slots.reduce((n, s) => n + s.restarts, 0),
      slots: this.slots.map((s) => ({ index: s.index, threadId: s.threadId ?? null, shards: s.shards, restarts: s.restarts, lastError: s.lastError ?? null })),
    };
  }

  /** Graceful: each actor stops taking work and finishes what is in flight, then the threads end. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) slot.control?.postMessage({ type: 'stop' } satisfies ControlMessage);
    await Promise.all(this.slots.map((s) => s.done));
    await this.piscina.destroy();
  }
}
