// An event's pricing policy: checking what an admin asks for, and its row.
// Shared by two actors, like seat-rows.ts: pricing owns the policy, and
// inventory sets one in the transaction that creates an event and refuses
// price edits of a dynamically priced event; neither imports the other.
import type { PoolClient } from 'pg';
import { refuse, type Outcome, type PricingRules, type PricingStrategy } from '../protocol/index.js';
import type { Config } from './config.js';
import { expectRow } from './expect-row.js';

/** Minor units as 25.00; the currency is the event's, and the model does not need it. */
export const money = (minor: number): string =>
  `${minor < 0 ? '-' : ''}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;

export interface PricingDefaults {
  intervalSeconds: number;
  shortWindowSeconds: number;
  longWindowSeconds: number;
}

export const pricingDefaults = (config: Config): PricingDefaults => ({
  intervalSeconds: config.pricingIntervalSeconds,
  shortWindowSeconds: config.pricingShortWindowSeconds,
  longWindowSeconds: Math.max(config.pricingShortWindowSeconds, config.pricingLongWindowSeconds),
});

/** A policy as stored; floor, ceiling and maxStep are null only for `fixed`. */
export interface PolicyRow {
  event_id: string;
  strategy: PricingStrategy;
  base_price: number;
  floor: number | null;
  ceiling: number | null;
  max_step: number | null;
  interval_s: number;
  short_window_s: number;
  long_window_s: number;
  last_tick: Date;
  last_reason: string;
}

export type CheckedRules = Omit<PolicyRow, 'event_id' | 'last_tick' | 'last_reason'>;

/** Refuses rules that cannot work together; otherwise fills in the defaults. */
export function checkRules(
  rules: PricingRules,
  basePrice: number,
  defaults: PricingDefaults,
): Outcome<never> | CheckedRules {
  const { strategy, floor = null, ceiling = null } = rules;
  if (strategy === 'dynamic' && (floor === null || ceiling === null))
    return refuse('PRICE_RANGE_INVALID', 'dynamic pricing needs a floor and a ceiling');
  if (floor !== null && ceiling !== null && floor > ceiling) {
    return refuse('PRICE_RANGE_INVALID', `floor ${money(floor)} is above ceiling ${money(ceiling)}`);
  }
  if (strategy === 'dynamic' && (basePrice < floor! || basePrice > ceiling!)) {
    return refuse(
      'PRICE_RANGE_INVALID',
      `the base price ${money(basePrice)} is outside [${money(floor!)}, ${money(ceiling!)}]; set basePrice or widen the range`,
    );
  }
  const maxStep =
    rules.maxStep ?? (floor !== null && ceiling !== null ? Math.max(1, Math.round((ceiling - floor) / 10)) : null);
  return {
    strategy,
    base_price: basePrice,
    floor,
    ceiling,
    max_step: maxStep,
    interval_s: rules.intervalSeconds ?? defaults.intervalSeconds,
    short_window_s: defaults.shortWindowSeconds,
    long_window_s: defaults.longWindowSeconds,
  };
}

export const isRefusal = (r: Outcome<never> | CheckedRules): r is Outcome<never> => 'ok' in r;

const POLICY_COLUMNS =
  'event_id, strategy, base_price, floor, ceiling, max_step, interval_s, short_window_s, long_window_s, last_tick, last_reason';

export async function readPolicy(
  client: PoolClient,
  eventId: string,
  forUpdate = false,
): Promise<PolicyRow | undefined> {
  const { rows } = await client.query<PolicyRow>(
    `SELECT ${POLICY_COLUMNS} FROM event_pricing WHERE event_id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [eventId],
  );
  return rows[0];
}

/** Inserts or replaces the event's policy; its first evaluation is the boundary after `lastTick`. */
export async function storePolicy(
  client: PoolClient,
  eventId: string,
  rules: CheckedRules,
  lastTick: Date,
  reason: string,
): Promise<PolicyRow> {
  const { rows } = await client.query<PolicyRow>(
    `INSERT INTO event_pricing (event_id, strategy, base_price, floor, ceiling, max_step, interval_s, short_window_s, long_window_s, last_tick, last_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (event_id) DO UPDATE SET strategy = EXCLUDED.strategy, base_price = EXCLUDED.base_price, floor = EXCLUDED.floor,
       ceiling = EXCLUDED.ceiling, max_step = EXCLUDED.max_step, interval_s = EXCLUDED.interval_s, short_window_s = EXCLUDED.short_window_s,
       long_window_s = EXCLUDED.long_window_s, last_tick = EXCLUDED.last_tick, last_reason = EXCLUDED.last_reason, updated_at = now()
     RETURNING ${POLICY_COLUMNS}`,
    [
      eventId,
      rules.strategy,
      rules.base_price,
      rules.floor,
      rules.ceiling,
      rules.max_step,
      rules.interval_s,
      rules.short_window_s,
      rules.long_window_s,
      lastTick,
      reason,
    ],
  );
  return expectRow(rows[0], 'pricing policy upsert');
}

/** Whether the event's price belongs to dynamic pricing (an admin's price edit would fight it). */
export async function isDynamic(client: PoolClient, eventId: string): Promise<boolean> {
  const { rows } = await client.query<{ strategy: string }>('SELECT strategy FROM event_pricing WHERE event_id = $1', [
    eventId,
  ]);
  return rows[0]?.strategy === 'dynamic';
}

/** The boundary at or before `at`: boundaries are whole multiples of the interval since the epoch. */
export const boundaryAtOrBefore = (at: number, intervalSeconds: number): number =>
  Math.floor(at / (intervalSeconds * 1000)) * intervalSeconds * 1000;
