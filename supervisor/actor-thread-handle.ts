// One incarnation of an actor thread: the piscina task that serves a slot's
// shards from `ready` until it is told to stop (it drains first) or dies.
// A slot outlives its incarnations: restarts, rolling restarts and re-plans
// replace the handle, never the slot.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { ActorTask, ControlMessage, ThreadReport } from '../platform/actor-thread.js';
import type { MetricsSnapshot } from '../platform/metrics.js';

// A thread that never reports ready is hung; one that is slow to load its modules and connect on a
// loaded two-core machine is not, and it can take well over 30 s there.
const READY_TIMEOUT_MS = 120_000;
const REPORT_TIMEOUT_MS = 250;
// A snapshot walks every series of the thread; a busy thread may take a moment.
const METRICS_TIMEOUT_MS = 2_000;

export class ActorThreadHandle {
  threadId: number | undefined;
  readonly startedAt = Date.now();
  /** Resolves when the task ends: null after a clean stop, the error when the thread died. */
  readonly ended: Promise<Error | null>;
  /** Resolves once the actor is subscribed and serving; rejects if it died or hung first. */
  readonly ready: Promise<void>;
  private running = true;
  private fenced = false;
  private readonly control: MessagePort;
  private readonly waitingForLoad = new Set<(inFlight: number) => void>();
  private readonly waitingForMetrics = new Set<(metrics: MetricsSnapshot) => void>();

  constructor(
    piscina: Piscina<ActorTask, unknown>,
    readonly shards: readonly number[],
    label: string,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.control = port1;
    this.ended = piscina
      .run({ shards: [...shards], control: port2 }, { transferList: [port2] as never })
      .then(
        () => null,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      )
      .then((err) => {
        this.running = false;
        port1.close();
        return err;
      });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${label} not ready in ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      port1.on('message', (m: ThreadReport) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.threadId = m.threadId;
          resolve();
        } else if (m.type === 'load') {
          for (const answer of this.waitingForLoad) answer(m.inFlight);
          this.waitingForLoad.clear();
        } else if (m.type === 'metrics') {
          for (const answer of this.waitingForMetrics) answer(m.metrics);
          this.waitingForMetrics.clear();
        }
      });
      void this.ended.then((err) => {
        clearTimeout(timer);
        reject(err ?? new Error(`${label} ended before it was ready`));
      });
    });
    // Whoever launched it awaits `ready`; a rejection nobody awaited must not crash the supervisor.
    this.ready.catch(() => undefined);
  }

  /** False from the moment it is fenced, though the thread may take a moment more to end. */
  get alive(): boolean {
    return this.running && !this.fenced;
  }

  /** Marks it stopped for the pool's bookkeeping; the pool terminates the thread itself. */
  fence(): void {
    this.fenced = true;
  }

  /** Requests in flight on this thread, or null if it does not answer at once. */
  inFlight(): Promise<number | null> {
    return this.ask(this.waitingForLoad, { type: 'report' }, REPORT_TIMEOUT_MS);
  }

  /** The thread's metrics, or null if it does not answer in time (it is busy, starting or dying). */
  metrics(): Promise<MetricsSnapshot | null> {
    return this.ask(this.waitingForMetrics, { type: 'metrics' }, METRICS_TIMEOUT_MS);
  }

  private ask<T>(waiting: Set<(answer: T) => void>, question: ControlMessage, timeoutMs: number): Promise<T | null> {
    if (!this.running || this.threadId === undefined) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(answer);
        resolve(null);
      }, timeoutMs);
      const answer = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      waiting.add(answer);
      this.send(question);
    });
  }

  /** Graceful: the actor stops taking work, answers what is in flight, then the task ends. */
  async retire(): Promise<Error | null> {
    this.send({ type: 'stop' });
    return this.ended;
  }

  /** Chaos and drills: the thread dies the way a real crash would, mid-work. */
  crash(): void {
    this.send({ type: 'crash' });
  }

  private send(message: ControlMessage): void {
    if (this.running) this.control.postMessage(message);
  }
}
