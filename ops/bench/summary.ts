// From raw runs to the figures a reader compares: each metric's median over
// the runs (one noisy run cannot move it), ratios to the reference taken
// within a run (both sides saw the same machine), and the targets.
import type { ScenarioName } from './args.js';
import type { ScenarioResult } from './scenarios.js';

export type Run = Partial<Record<ScenarioName, ScenarioResult>>;

export interface Row {
  name: ScenarioName;
  reqPerSec: number;
  bookingsPerSec?: number;
  /** req/s (bookings/s for a sale) ÷ the same run's reference req/s. */
  ratio?: number;
  p50: number;
  p975: number;
  p99: number;
  confirmed?: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  fiveXX: number;
  /** true only if every run's database check held. */
  oversellOk?: boolean;
  registrationsPerSec?: number;
  peakLag?: number;
  /** Median catch-up time; Infinity when a run did not catch up. */
  drainMs?: number;
}

export interface Target {
  what: string;
  value: string;
  pass: boolean;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? at(sorted, mid) : (at(sorted, mid - 1) + at(sorted, mid)) / 2;
}

/** The p-th percentile (nearest rank) of latency samples. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return at(sorted, Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length)));
}

/** NaN when there are no samples, so an empty series prints as NaN instead of failing. */
const at = (sorted: readonly number[], i: number): number => sorted[i] ?? NaN;

const optMedian = (values: readonly (number | undefined)[]) => {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length > 0 ? median(present) : undefined;
};

function ratioIn(run: Run, r: ScenarioResult): number | undefined {
  const ref = run.ref?.m.reqPerSec;
  if (!ref || r.name === 'ref') return undefined;
  return (r.bookingsPerSec ?? r.m.reqPerSec) / ref;
}

/** One row from one run (runs = [run]) or the medians of several. */
export function row(name: ScenarioName, runs: readonly Run[]): Row | undefined {
  const pairs = runs.flatMap((run) => (run[name] ? [{ run, r: run[name] }] : []));
  if (pairs.length === 0) return undefined;
  const rs = pairs.map((p) => p.r);
  const codes = [...new Set(rs.flatMap((r) => Object.keys(r.m.statuses)))];
  const statuses = Object.fromEntries(codes.map((c) => [c, median(rs.map((r) => r.m.statuses[c] ?? 0))]));
  const checks = rs.flatMap((r) => (r.oversell ? [r.oversell.ok] : []));
  return {
    name,
    reqPerSec: median(rs.map((r) => r.m.reqPerSec)),
    bookingsPerSec: optMedian(rs.map((r) => r.bookingsPerSec)),
    ratio: optMedian(pairs.map((p) => ratioIn(p.run, p.r))),
    p50: median(rs.map((r) => r.m.p50)),
    p975: median(rs.map((r) => r.m.p975)),
    p99: median(rs.map((r) => r.m.p99)),
    confirmed: optMedian(rs.map((r) => r.confirmed)),
    statuses,
    errors: median(rs.map((r) => r.m.errors)),
    timeouts: median(rs.map((r) => r.m.timeouts)),
    fiveXX: median(rs.map((r) => r.fiveXX)),
    oversellOk: checks.length > 0 ? checks.every(Boolean) : undefined,
    registrationsPerSec: optMedian(rs.map((r) => r.registrations?.perSec)),
    peakLag: optMedian(rs.map((r) => r.drain?.peakLag)),
    drainMs: optMedian(rs.map((r) => (r.drain ? (r.drain.drainMs ?? Infinity) : undefined))),
  };
}

/** b1 bookings/s ÷ b2 bookings/s, per run, then the median. */
export function batchingSpeedup(runs: readonly Run[]): number | undefined {
  return optMedian(
    runs.map((run) => {
      const on = run.flash?.bookingsPerSec;
      const off = run['flash-unbatched']?.bookingsPerSec;
      return on !== undefined && off ? on / off : undefined;
    }),
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function targets(rows: Partial<Record<ScenarioName, Row>>, runs: readonly Run[], connections: number): Target[] {
  const out: Target[] = [];
  const at = connections === 100 ? '' : ` (measured at ${connections} connections, target is at 100)`;
  const flash = rows.flash;
  if (flash) {
    if (flash.ratio !== undefined)
      out.push({
        what: 'flash sale (batching): bookings/s ≥ 10% of reference req/s',
        value: pct(flash.ratio),
        pass: flash.ratio >= 0.1,
      });
    out.push({ what: `flash sale (batching): p99 < 50 ms${at}`, value: `${flash.p99} ms`, pass: flash.p99 < 50 });
    out.push({
      what: 'flash sale (batching): zero oversell (every run)',
      value: flash.oversellOk ? 'none' : 'MISMATCH',
      pass: flash.oversellOk === true,
    });
    const worst5xx = Math.max(...runs.map((r) => r.flash?.fiveXX ?? 0));
    out.push({ what: 'flash sale (batching): zero 5xx (every run)', value: String(worst5xx), pass: worst5xx === 0 });
  }
  if (flash?.drainMs !== undefined) {
    out.push({
      what: 'flash sale: every consumer caught up within 60 s of the end',
      value: Number.isFinite(flash.drainMs)
        ? `${(flash.drainMs / 1000).toFixed(1)} s (peak backlog ${flash.peakLag})`
        : 'not caught up',
      pass: flash.drainMs <= 60_000,
    });
  }
  const reads = rows['flash-reads'];
  if (reads) {
    const idle = rows.browse;
    // Both loads use half the connections of browse; per connection is the fair comparison.
    if (idle) {
      const share = reads.reqPerSec / idle.reqPerSec;
      out.push({
        what: 'reads of another event during a sale ≥ 50% of the same reads idle (half the connections)',
        value: pct(share),
        pass: share >= 0.5,
      });
    }
    out.push({
      what: 'reads of another event during a sale: p99 < 50 ms',
      value: `${reads.p99} ms`,
      pass: reads.p99 < 50,
    });
  }
  const speedup = batchingSpeedup(runs);
  if (speedup !== undefined)
    out.push({ what: 'batching ≥ 3× unbatched bookings/s', value: `${speedup.toFixed(2)}×`, pass: speedup >= 3 });
  const browse = rows.browse;
  if (browse) {
    if (browse.ratio !== undefined)
      out.push({ what: 'browse: req/s ≥ 15% of reference', value: pct(browse.ratio), pass: browse.ratio >= 0.15 });
    out.push({ what: `browse: p99 < 20 ms${at}`, value: `${browse.p99} ms`, pass: browse.p99 < 20 });
  }
  const busy = rows['browse-register'];
  if (busy)
    out.push({ what: 'browse p99 under registration load < 20 ms', value: `${busy.p99} ms`, pass: busy.p99 < 20 });
  const burst = runs.map((r) => r['signup-burst']).filter((r) => r !== undefined);
  if (burst.length > 0) {
    const worst = Math.max(...burst.map((r) => r.fiveXX));
    const fewest = Math.min(...burst.map((r) => r.burst?.created ?? 0));
    out.push({
      what: 'sign-up burst: no 5xx but 503 with retry-after (every run)',
      value: String(worst),
      pass: worst === 0,
    });
    out.push({
      what: 'sign-up burst: a client honouring retry-after gets all 300 accounts (every run)',
      value: String(fewest),
      pass: fewest === 300,
    });
  }
  const sellout = rows.sellout;
  if (sellout)
    out.push({
      what: 'sell-out: exactly capacity confirmed, none oversold (every run)',
      value: sellout.oversellOk ? 'exact' : 'MISMATCH',
      pass: sellout.oversellOk === true,
    });
  return out;
}
