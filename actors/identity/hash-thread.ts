// One hashing thread of the identity actor (a piscina worker). It lowers its
// own OS priority once, at load: on Linux a nice value belongs to the thread,
// so while bookings need the cores the scheduler runs them first and a wave
// of sign-ups takes only what is left. This is why hashing runs here and not
// on libuv's pool: those threads are shared by the whole process, are created
// by whichever thread first needs them (at normal priority), and cannot be
// told apart to be reniced.
import { scryptSync } from 'node:crypto';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { KEY_LENGTH, memoryFor, normalized, type ScryptTask } from './password.js';

/** EVENTLY_IDENTITY_NICE (default 10; 19 would starve sign-ups on a busy machine, 0 = no lowering). */
const { nice } = workerData as { nice: number };

let niced = true;
try {
  if (nice > 0) setPriority(0, nice);
} catch {
  niced = false;
}

export interface HashResult {
  key: Uint8Array;
  /** Wall time of the derivation on this thread: what the caller's queue estimate learns from. */
  ms: number;
  niced: boolean;
}

export default function derive(task: ScryptTask): HashResult {
  const started = performance.now();
  const key = scryptSync(normalized(task.password), task.salt, KEY_LENGTH, {
    N: task.N,
    r: task.r,
    p: task.p,
    maxmem: memoryFor(task.N, task.r),
  });
  return { key, ms: performance.now() - started, niced };
}
