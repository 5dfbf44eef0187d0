// The identity actor's password hashing: a few low-priority threads
// (hash-thread.ts), at most one hash each at a time, and what it takes to
// tell a caller at once that a sign-up would not finish in time. The wait
// estimate is learnt from the hashes themselves (their wall time on a busy,
// niced thread), so it grows when bookings take the cores.
import { randomBytes } from 'node:crypto';
import { Piscina } from 'piscina';
import type { Logger } from '../runtime/logger.js';
import type { HashResult } from './hash-thread.js';
import type { Derive, ScryptTask } from './password.js';

const HASH_THREAD = new URL('./hash-thread.js', import.meta.url).href;
/** Weight of the newest hash in the running estimate: a few hashes move it, one outlier does not. */
const LEARNING_RATE = 0.3;

export class Hasher {
  private pending = 0;

  private constructor(
    private readonly pool: Piscina<ScryptTask, HashResult>,
    readonly threads: number,
    private hashMs: number,
  ) {}

  /** Starts the threads and times one hash on each at the configured cost, so the first estimate is measured. */
  static async start(threads: number, cost: number, log: Logger): Promise<Hasher> {
    const pool = new Piscina<ScryptTask, HashResult>({ filename: HASH_THREAD, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1, idleTimeout: Infinity });
    const N = 2 ** cost;
    const warm = await Promise.all(Array.from({ length: threads }, () => pool.run({ password: 'calibration', salt: randomBytes(16), N, r: 8, p: 1 })));
    const hashMs = warm.reduce((sum, r) => sum + r.ms, 0) / warm.length;
    if (warm.some((r) => !r.niced)) log.warn('could not lower the hashing threads\' priority; sign-ups compete with bookings for CPU');
    log.info({ threads, cost, hashMs: Math.round(hashMs) }, 'password hashing threads ready');
    return new Hasher(pool, threads, hashMs);
  }

  readonly derive: Derive = async (task) => {
    this.pending++;
    try {
      const { key, ms } = await this.pool.run(task);
      this.hashMs += LEARNING_RATE * (ms - this.hashMs);
      return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    } finally {
      this.pending--;
    }
  };

  /** Hashes taken and not finished (running or queued), sign-ups and sign-ins alike. */
  waiting(): number {
    return this.pending;
  }

  /** Milliseconds until one more hash asked for now would be done: the rounds of work ahead of it, each one hash long. */
  expectedWaitMs(): number {
    return Math.ceil((this.pending + 1) / this.threads) * this.hashMs;
  }

  averageHashMs(): number {
    return this.hashMs;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
