// Until when this process may write for each shard: the last line of the
// no-two-writers argument (supervisor/lease-keeper.ts). The lease keeper
// fences a shard whose renewals are late, and the supervisor's main thread
// then ends the threads serving it. On a starved machine that main thread can
// take seconds to get there (5.4 s at a load average of 45), longer than the
// margin before another supervisor may claim the shard. So the keeper also
// writes each shard's deadline into memory every actor thread of the process
// shares, and a thread checks it right before each COMMIT: past the deadline of
// one of its shards, the transaction rolls back (FencedError) and the request is
// answered UNAVAILABLE, to be retried where the shard lives now. A thread
// therefore stops writing at the fence even when nobody gets to end it.
//
// Deadlines are on the machine's monotonic clock (CLOCK_MONOTONIC via
// process.hrtime), which every thread reads alike; performance.now() would not
// do, as each thread counts from its own start.

/** Milliseconds on the monotonic clock every thread of the process shares. */
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

export const newDeadlineBuffer = (shards: number): SharedArrayBuffer =>
  new SharedArrayBuffer(Math.max(1, shards) * BigInt64Array.BYTES_PER_ELEMENT);

export class LeaseDeadlines {
  private readonly cells: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new BigInt64Array(buffer);
  }

  /** The keeper: `shard` may be written until `untilMs` (monotonic); a deadline never moves back but by revoke. */
  extend(shard: number, untilMs: number): void {
    const until = BigInt(Math.floor(untilMs));
    if (until > Atomics.load(this.cells, shard)) Atomics.store(this.cells, shard, until);
  }

  /** The keeper: another supervisor holds `shard` now; no more writes for it at all. */
  revoke(shard: number): void {
    Atomics.store(this.cells, shard, 0n);
  }

  /** The first of `shards` whose deadline has passed (or that was never granted), if any. */
  expired(shards: readonly number[], now = monotonicMs()): number | undefined {
    return shards.find((shard) => Number(Atomics.load(this.cells, shard)) <= now);
  }
}

/** A commit refused because the lease of one of the thread's shards ran out: roll back, answer UNAVAILABLE. */
export class FencedError extends Error {
  constructor(readonly shard: number) {
    super(`the lease of shard ${shard} ran out before this commit; the shard is served elsewhere now`);
    this.name = 'FencedError';
  }
}

let guard: (() => void) | undefined;

/** An actor thread serving `shards` under leases: from now on every commit checks their deadlines first. */
export function guardCommits(deadlines: LeaseDeadlines, shards: readonly number[]): void {
  if (shards.length === 0) return;
  guard = () => {
    const shard = deadlines.expired(shards);
    if (shard !== undefined) throw new FencedError(shard);
  };
}

/** Throws FencedError when this thread's leases ran out; a no-op outside a guarded actor thread. */
export function assertMayCommit(): void {
  guard?.();
}
