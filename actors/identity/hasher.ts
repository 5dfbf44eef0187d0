// The identity actor's password hashing: a few low-priority threads
// (hash-thread.ts), one hash each at a time, fed from this FIFO, and what it
// takes to tell a caller in time that a sign-up would not finish. The
// estimate is learnt from the hashes themselves (their wall time on a busy,
// niced thread), so it grows when bookings take the cores.
import { randomBytes } from 'node:crypto';
import { Piscina } from 'piscina';
import type { Logger } from '../../platform/logger.js';
import type { HashResult } from './hash-thread.js';
import type { Derive, ScryptTask } from './password.js';

const HASH_THREAD = new URL('./hash-thread.js', import.meta.url).href;
/** Weight of the newest hash in the running estimate: a few hashes move it, one outlier does not. */
const LEARNING_RATE = 0.3;

/** A hash whose turn came too late to finish by its caller's deadline; it was not started. */
export class TooLate extends Error {
  override name = 'TooLate';
}

interface Job {
  task: ScryptTask;
  /** performance.now() by which the hash must be done; Infinity for a caller without one. */
  deadline: number;
  resolve: (key: Buffer) => void;
  reject: (err: unknown) => void;
}

export class Hasher {
  private readonly queue: Job[] = [];
  private running = 0;
  /** A hash was refused on the estimate since the last one ran: the estimate must be checked again. */
  private stale = false;

  private constructor(
    private readonly pool: Piscina<ScryptTask, HashResult>,
    readonly threads: number,
    private hashMs: number,
    private readonly cost: number,
  ) {}

  /** Starts the threads and times one hash on each at the configured cost, so the first estimate is measured. */
  static async start(threads: number, cost: number, nice: number, log: Logger): Promise<Hasher> {
    const pool = new Piscina<ScryptTask, HashResult>({
      filename: HASH_THREAD,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      workerData: { nice },
    });
    const warm = await Promise.all(Array.from({ length: threads }, () => pool.run(calibration(cost))));
    const hashMs = warm.reduce((sum, r) => sum + r.ms, 0) / warm.length;
    if (warm.some((r) => !r.niced))
      log.warn("could not lower the hashing threads' priority; sign-ups compete with bookings for CPU");
    log.info({ threads, cost, hashMs: Math.round(hashMs) }, 'password hashing threads ready');
    return new Hasher(pool, threads, hashMs, cost);
  }

  /** Hashes whenever a thread is free, however long that takes (sign-ins, the first admin). */
  readonly derive: Derive = (task) => this.enqueue(task, Infinity);

  /** Hashes only if, when its turn comes, the estimate says it ends before `deadline` (performance.now()); else rejects with TooLate. */
  deriveBy(deadline: number): Derive {
    return (task) => this.enqueue(task, deadline);
  }

  /** Hashes taken and not finished (running or queued), sign-ups and sign-ins alike. */
  waiting(): number {
    return this.queue.length + this.running;
  }

  /** Milliseconds until one more hash asked for now would be done: the rounds of work ahead of it, each one hash long. */
  expectedWaitMs(): number {
    return Math.ceil((this.waiting() + 1) / this.threads) * this.hashMs;
  }

  averageHashMs(): number {
    return this.hashMs;
  }

  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new TooLate('the identity actor is stopping'));
    await this.pool.destroy();
  }

  private enqueue(task: ScryptTask, deadline: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, deadline, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.threads && this.queue.length > 0) {
      const job = this.queue.shift()!;
      // Checked at the last moment, when the wait is known: work the caller would no longer wait for is never done.
      if (performance.now() + this.hashMs > job.deadline) {
        this.stale = true;
        job.reject(new TooLate('hash would end after the deadline'));
        continue;
      }
      this.run(job.task).then(job.resolve, job.reject);
    }
    // While the estimate refuses every hash none would run to correct it: one that no caller waits for does.
    if (this.stale && this.running === 0) {
      this.stale = false;
      this.run(calibration(this.cost)).catch(() => undefined);
    }
  }

  private async run(task: ScryptTask): Promise<Buffer> {
    this.running++;
    try {
      const { key, ms } = await this.pool.run(task);
      this.hashMs += LEARNING_RATE * (ms - this.hashMs);
      return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    } finally {
      this.running--;
      this.pump();
    }
  }
}

const calibration = (cost: number): ScryptTask => ({
  password: 'calibration',
  salt: randomBytes(16),
  N: 2 ** cost,
  r: 8,
  p: 1,
});
