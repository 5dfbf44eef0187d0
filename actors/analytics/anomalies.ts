// What counts as an anomaly, as pure functions of an event's per-minute
// series: each sale is measured against its own recent baseline, and every
// time comes from the events themselves (a booking's createdAt, a
// cancellation's cancelledAt) or from the `now` the caller passes, so a
// replayed or scripted stream raises the same alerts.
import type { AnalyticsAlertItem } from '../../protocol/index.js';

type AlertKind = AnalyticsAlertItem['kind'];

export const MINUTE_MS = 60_000;

/** The thresholds, documented in docs/api.md ("Analytics") and docs/architecture.md ("Analytics"). */
export const ANOMALY = Object.freeze({
  /** The baseline is the mean per minute over this many minutes before the one observed. */
  baselineMinutes: 30,
  /** A velocity spike: a minute with at least this many times the baseline's tickets… */
  spikeFactor: 5,
  /** …and at least this many tickets; a sale with no baseline yet (just opened) never spikes. */
  spikeMinTickets: 10,
  /** A cancellation burst: a minute with at least this many times the baseline's cancellations… */
  burstFactor: 3,
  /** …and at least this many of them. */
  burstMinCancellations: 5,
  /** A stalled sale: no ticket sold for this many whole minutes while seats remain… */
  stallMinutes: 10,
  /** …after selling at least this many tickets per minute over the baseline window before it stopped. */
  stallMinVelocity: 0.5,
  /** Anomalous minutes closer together than this are one episode, with one alert. */
  episodeGapMinutes: 10,
  /** A sale whose events were applied this recently is not judged stalled: its backlog may still be arriving. */
  settleMs: 5_000,
  /** Stalls are looked for among sales that sold something this recently. */
  stallLookbackMinutes: 360,
});

export interface MinuteCounts {
  /** Start of the UTC minute, epoch ms. */
  at: number;
  tickets: number;
  cancellations: number;
}

export interface Finding {
  kind: AlertKind;
  observed: number;
  baseline: number;
  detail: string;
}

export const minuteOf = (iso: string): number => Math.floor(Date.parse(iso) / MINUTE_MS) * MINUTE_MS;

const round = (n: number): number => Math.round(n * 100) / 100;
const hhmm = (at: number): string => new Date(at).toISOString().slice(11, 16);

function sumOver(series: readonly MinuteCounts[], from: number, to: number, pick: 'tickets' | 'cancellations'): number {
  return series.reduce((n, m) => (m.at >= from && m.at < to ? n + m[pick] : n), 0);
}

/** Mean per minute over the baseline window that ends where `minute` begins. */
const baselineBefore = (series: readonly MinuteCounts[], minute: number, pick: 'tickets' | 'cancellations'): number =>
  sumOver(series, minute - ANOMALY.baselineMinutes * MINUTE_MS, minute, pick) / ANOMALY.baselineMinutes;

export function velocitySpike(series: readonly MinuteCounts[], minute: number): Finding | null {
  const observed = sumOver(series, minute, minute + MINUTE_MS, 'tickets');
  const baseline = baselineBefore(series, minute, 'tickets');
  if (baseline === 0 || observed < ANOMALY.spikeMinTickets || observed < ANOMALY.spikeFactor * baseline) return null;
  return {
    kind: 'velocity-spike',
    observed,
    baseline: round(baseline),
    detail: `${observed} tickets in the minute from ${hhmm(minute)} UTC, ${round(observed / baseline)}× the ${ANOMALY.baselineMinutes}-minute baseline of ${round(baseline)}/min`,
  };
}

export function cancellationBurst(series: readonly MinuteCounts[], minute: number): Finding | null {
  const observed = sumOver(series, minute, minute + MINUTE_MS, 'cancellations');
  const baseline = baselineBefore(series, minute, 'cancellations');
  if (observed < ANOMALY.burstMinCancellations || observed < ANOMALY.burstFactor * baseline) return null;
  return {
    kind: 'cancellation-burst',
    observed,
    baseline: round(baseline),
    detail: `${observed} cancellations in the minute from ${hhmm(minute)} UTC against a ${ANOMALY.baselineMinutes}-minute baseline of ${round(baseline)}/min`,
  };
}

/** `lastSale` is the last minute that sold a ticket; the caller knows seats remain. */
export function stalledSale(series: readonly MinuteCounts[], lastSale: number, now: number): Finding | null {
  const quietMinutes = Math.floor((now - (lastSale + MINUTE_MS)) / MINUTE_MS);
  if (quietMinutes < ANOMALY.stallMinutes) return null;
  const baseline = baselineBefore(series, lastSale + MINUTE_MS, 'tickets');
  if (baseline < ANOMALY.stallMinVelocity) return null;
  return {
    kind: 'stalled-sale',
    observed: 0,
    baseline: round(baseline),
    detail: `no ticket sold for ${quietMinutes} minutes since ${hhmm(lastSale)} UTC, after ${round(baseline)}/min over the ${ANOMALY.baselineMinutes} minutes before`,
  };
}

/**
 * Whether an anomaly at `minute` opens a new episode, given the minute its
 * kind last showed for the event. A stall is keyed by its last sale: the
 * same stall is one episode however often it is checked.
 */
export function opensEpisode(kind: AlertKind, last: number | undefined, minute: number): boolean {
  if (last === undefined) return true;
  return kind === 'stalled-sale' ? minute > last : minute - last > ANOMALY.episodeGapMinutes * MINUTE_MS;
}
