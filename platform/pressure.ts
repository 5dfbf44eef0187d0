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
/** Pieces of foreground work begun since the process started: their rate says whether a sale is on. */
const STARTED = 2;
/** The path counts as busy this long after its last piece of work. */
const QUIET_MS = 25;
const POLL_MS = 10;

export const newPressureBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(3 * BigInt64Array.BYTES_PER_ELEMENT);

export class Pressure {
  private readonly cells: BigInt64Array;

  constructor(buffer: SharedArrayBuffer = newPressureBuffer()) {
    this.cells = new BigInt64Array(buffer);
  }

  /** Foreground: a piece of work a client waits for has started. */
  begin(): void {
    Atomics.add(this.cells, IN_FLIGHT, 1n);
    Atomics.add(this.cells, STARTED, 1n);
    Atomics.store(this.cells, LAST_ACTIVE, BigInt(Date.now()));
  }

  /** Foreground: that piece of work is done. */
  end(): void {
    Atomics.sub(this.cells, IN_FLIGHT, 1n);
    Atomics.store(this.cells, LAST_ACTIVE, BigInt(Date.now()));
  }

  /** Pieces of foreground work begun so far. */
  started(): number {
    return Number(Atomics.load(this.cells, STARTED));
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

/**
 * The foreground's rate (pieces of work begun a second), measured over the last full second or more
 * between two asks. A background actor asks it to tell a sale (hundreds of bookings a second) from an
 * ordinary day's traffic, which it need not wait for.
 */
export class ForegroundRate {
  private at: number;
  private count: number;
  private rate = 0;

  constructor(
    private readonly pressure: Pick<Pressure, 'started'>,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.at = now();
    this.count = pressure.started();
  }

  perSecond(): number {
    const now = this.now();
    if (now - this.at < 1000) return this.rate;
    const count = this.pressure.started();
    this.rate = ((count - this.count) * 1000) / (now - this.at);
    this.at = now;
    this.count = count;
    return this.rate;
  }
}

/**
 * Whether a sale is on: the foreground's rate reached `threshold` a second within the last `quietMs`.
 * A sale's rate dips for a second or two (a waiting room between admissions); background work held
 * for the sale and let go at each dip comes all at once, in the middle of it.
 */
export class SaleWatch {
  private lastAbove = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly rate: Pick<ForegroundRate, 'perSecond'>,
    private readonly threshold: number,
    private readonly quietMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  on(): boolean {
    const now = this.now();
    if (this.rate.perSecond() >= this.threshold) this.lastAbove = now;
    return now - this.lastAbove < this.quietMs;
  }
}
