// The dynamic pricing model: a pure function of the policy, the demand seen
// at one interval boundary, and that boundary's time. No clock, no I/O, only
// + − × ÷ and rounding, so the same stream gives the same prices anywhere.
//
// The target is the base price times a demand multiplier:
//   pace      ±25 %: tickets/min (the faster of the two windows) against the
//                    pace that would sell the remaining seats exactly by the
//                    start; twice that pace or more → +25 %, half or less
//                    (or no sales) → −25 %, linear in between
//   sold      +0..25 %: as the second half of the capacity sells
//   waitlist  +0..25 %: waiting tickets, full effect at 10 % of capacity
// clamped into [floor, ceiling]. The price moves towards the target by at
// most maxStep per boundary, so it ranges over [0.75, 1.75] × base at most.
import { money, type PolicyRow } from '../../platform/pricing-policy.js';

export interface Policy {
  basePrice: number;
  floor: number;
  ceiling: number;
  maxStep: number;
  intervalSeconds: number;
  shortWindowSeconds: number;
  longWindowSeconds: number;
}

/** The model's view of a dynamic policy. */
export const policyOf = (row: PolicyRow): Policy => ({
  basePrice: row.base_price,
  floor: row.floor ?? 0,
  ceiling: row.ceiling ?? Number.MAX_SAFE_INTEGER,
  maxStep: row.max_step ?? Number.MAX_SAFE_INTEGER,
  intervalSeconds: row.interval_s,
  shortWindowSeconds: row.short_window_s,
  longWindowSeconds: row.long_window_s,
});

/** What the stream says about one event at a boundary. */
export interface Demand {
  /** The price in force before this boundary. */
  price: number;
  capacity: number;
  /** Net tickets sold (confirmed − cancelled) by the boundary. */
  sold: number;
  /** Net tickets sold in each window ending at the boundary. */
  shortTickets: number;
  longTickets: number;
  /** Tickets waiting on the waitlist at the boundary. */
  waiting: number;
  /** Epoch ms. */
  startsAt: number;
  /** False once the event was cancelled by the boundary. */
  open: boolean;
}

export interface Recommendation {
  price: number;
  reason: string;
}

const PACE_WEIGHT = 0.25;
const SOLD_WEIGHT = 0.5;
const WAITLIST_WEIGHT = 0.25;
/** A waitlist this share of capacity has the waitlist term's full effect. */
const WAITLIST_FULL_SHARE = 0.1;

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

const signed = (minor: number): string => (minor > 0 ? `+${money(minor)}` : money(minor));
const rate = (perMinute: number): string => (perMinute >= 10 ? perMinute.toFixed(0) : perMinute.toFixed(1));

function span(seconds: number): string {
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)} d`;
  if (seconds >= 3_600) return `${Math.floor(seconds / 3_600)} h`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds)} s`;
}

/** −1 … +1: how the selling pace compares with the pace that sells out exactly at the start. */
function paceTerm(perMinute: number, remaining: number, minutesLeft: number): number {
  if (remaining <= 0) return 1;
  const ratio = perMinute / (remaining / minutesLeft);
  return ratio >= 1 ? Math.min(1, ratio - 1) : Math.max(-1, 2 * (ratio - 1));
}

export function recommend(policy: Policy, demand: Demand, at: number): Recommendation {
  const { price } = demand;
  if (!demand.open || at >= demand.startsAt) return { price, reason: `sale closed: price stays ${money(price)}` };
  const shortRate = Math.max(0, demand.shortTickets) / (policy.shortWindowSeconds / 60);
  const longRate = Math.max(0, demand.longTickets) / (policy.longWindowSeconds / 60);
  const remaining = Math.max(0, demand.capacity - demand.sold);
  const secondsLeft = (demand.startsAt - at) / 1000;
  const soldShare = demand.capacity > 0 ? clamp(demand.sold / demand.capacity, 0, 1) : 1;
  const waitShare = Math.min(1, demand.waiting / Math.max(1, demand.capacity * WAITLIST_FULL_SHARE));
  const multiplier =
    1 +
    PACE_WEIGHT * paceTerm(Math.max(shortRate, longRate), remaining, Math.max(secondsLeft, 1) / 60) +
    SOLD_WEIGHT * Math.max(0, soldShare - 0.5) +
    WAITLIST_WEIGHT * waitShare;
  const wanted = Math.round(policy.basePrice * multiplier);
  const target = clamp(wanted, policy.floor, policy.ceiling);
  const next = clamp(price + clamp(target - price, -policy.maxStep, policy.maxStep), policy.floor, policy.ceiling);

  // Demand is high or low against the base price, whatever the price in force.
  const level = wanted > policy.basePrice ? 'high' : wanted < policy.basePrice ? 'low' : 'steady';
  const bound =
    next === policy.ceiling && target >= policy.ceiling
      ? ', at ceiling'
      : next === policy.floor && target <= policy.floor
        ? ', at floor'
        : '';
  const move =
    next === price
      ? `no change (${money(price)}${bound})`
      : `${signed(next - price)} (target ${money(target)}${bound})`;
  const reason =
    `demand ${level}: ${rate(shortRate)} tickets/min over ${span(policy.shortWindowSeconds)}` +
    ` (${rate(longRate)} over ${span(policy.longWindowSeconds)}), ${Math.round(soldShare * 100)}% sold,` +
    ` waitlist ${demand.waiting}, ${span(secondsLeft)} to start → ${move}`;
  return { price: next, reason };
}
