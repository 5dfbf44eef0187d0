// How busy the booking path of this process is, shared by every actor thread
// through one SharedArrayBuffer (the supervisor makes it; each thread gets it
// in its workerData). Foreground actors mark the work a waiting client is
// waiting for; background actors (mailer, analytics, pricing, audit,
// webhooks) ask before each run of work and wait while it is busy, up to a
// bound, so on a small machine the sale keeps the CPU and the background
// catches up in a few large runs instead of many small ones. Per process, not
// per cluster: it is this machine's cores that are shared.
const IN_FLIGHT = 0;
const LAST_ACTIVE = 1;
/** The path counts as busy this long after its last piece of work. */
const QUIET_MS = 25;
const POLL_MS = 10;

export const newPressureBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);

export class Pressure {
  private readonly cells: BigInt64Array;

  constructor(buffer: SharedArrayBuffer = newPressureBuffer()) {
    this.cells = new BigInt64Array(buffer);
  }

  /** Foreground: a piece of work a client waits for has started. */
  begin(): void {
    Atomics.add(this.cells, IN_FLIGHT, 1n);
    Atomics.store(this.cells, LAST_ACTIVE, BigInt(Date.now()));
  }

  /** Foreground: that piece of work is done. */
  end(): void {
    Atomics.sub(this.cells, IN_FLIGHT, 1n);
    Atomics.store(this.cells, LAST_ACTIVE, BigInt(Date.now()));
  }

  busy(now = Date.now()): boolean {
    return Atomics.load(this.cells, IN_FLIGHT) > 0n || now - Number(Atomics.load(this.cells, LAST_ACTIVE)) < QUIET_MS;
  }

  /** Background: resolves when the booking path is quiet, or after `maxWaitMs` at most. */
  async yieldTo(maxWaitMs: number): Promise<void> {
    const until = Date.now() + maxWaitMs;
    while (this.busy() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
