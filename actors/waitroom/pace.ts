// How many people a room admits at one tick. A fixed rate (the admin's
// admitPerMinute) accrues fractional admissions so the rate holds over time
// whatever the tick. The adaptive rate keeps about `shopSeconds` of the
// event's measured booking rate shopping at once, starting from
// `startShoppers` and at most doubling per tick, so admitted people find the
// booking path fast. Shopping is admitted in the last shopSeconds / 2 and not
// yet booked: whoever was admitted longer ago and has not booked is slow to
// notice (a poller) or gone, and must not hold the door shut for the rest of
// their admission's life (that stalled a 20,000-people sale at ~4 bookings/s).
// Counted over half the span, the target lets in up to twice the measured
// booking rate, so the rate grows while people keep booking and follows the
// booking path down when it slows. Nobody is admitted while nothing is on sale,
// nor beyond the seats the people shopping have not claimed (one each), nor
// while the edges answer the event's bookings slower than the target: the
// booking rate alone let a path that keeps up but slowly fill with people.
import type { Demand } from './admissions.js';

export interface PaceSettings {
  tickMs: number;
  startShoppers: number;
  shopSeconds: number;
  /** Seconds of bookings the adaptive rate is measured over. */
  windowSeconds: number;
  /** Admit nobody while the event's booking time (p90 at the edges) is above this; 0 = no latency signal. */
  targetBookingMs: number;
}

export interface Due {
  admit: number;
  carry: number;
}

/** Fixed rate: elapsed time earns admissions; the fraction carries to the next tick. */
export function fixedDue(admitPerMinute: number, elapsedMs: number, carry: number, available: number): Due {
  if (available <= 0) return { admit: 0, carry: 0 };
  const earned = carry + (admitPerMinute * Math.min(elapsedMs, 5000)) / 60_000;
  // The epsilon keeps float drift in the carry from losing an admission over a long run.
  const admit = Math.floor(earned + 1e-9);
  return { admit, carry: Math.max(0, earned - admit) };
}

/** Seconds back an admitted person who has not booked still counts as shopping. */
export const shoppingSeconds = (s: PaceSettings): number => s.shopSeconds / 2;

/**
 * Adaptive rate: fill up to the shopping target, growing at most twice what was booked per tick,
 * and never letting in more people than seats no shopper is about to take: whoever is let in for a
 * seat that is gone only meets SOLD_OUT, and books the booking path for nothing. While the bookings
 * of those already in are answered slower than the target, the door stays shut: the next ones would
 * only queue behind them.
 */
export function adaptiveDue(demand: Demand, s: PaceSettings, bookingP90Ms?: number): number {
  if (demand.available <= 0) return 0;
  if (s.targetBookingMs > 0 && bookingP90Ms !== undefined && bookingP90Ms > s.targetBookingMs) return 0;
  const bookedPerSecond = demand.recentBookings / s.windowSeconds;
  const target = Math.max(s.startShoppers, Math.ceil(bookedPerSecond * s.shopSeconds));
  const growth = Math.max(s.startShoppers, Math.ceil(2 * bookedPerSecond * (s.tickMs / 1000)));
  const unclaimed = demand.available - demand.shopping;
  return Math.max(0, Math.min(target - demand.shopping, growth, unclaimed));
}

/** Admissions per second over the last `spanMs`: the honest basis of estimatedWaitSeconds. */
export class MeasuredRate {
  private readonly samples: { at: number; n: number }[] = [];

  constructor(private readonly spanMs = 30_000) {}

  add(n: number, at = Date.now()): void {
    this.samples.push({ at, n });
    while ((this.samples[0]?.at ?? Infinity) < at - this.spanMs) this.samples.shift();
  }

  perSecond(now = Date.now()): number {
    const live = this.samples.filter((s) => s.at >= now - this.spanMs);
    const first = live.find((s) => s.n > 0);
    if (!first) return 0;
    const total = live.reduce((sum, s) => sum + s.n, 0);
    return total / Math.max(1, (now - first.at) / 1000);
  }
}
