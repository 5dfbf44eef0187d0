// PUT /v1/events/:id/pricing: an admin sets an event's policy. Under the
// event row lock: a `fixed` policy puts the base price in force at once; a
// `dynamic` one moves a price outside its new [floor, ceiling] into it at
// once (an admin's decision, not a market move, so not bound by the step)
// and is evaluated from the next interval boundary on.
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type CallContext,
  type Outcome,
  type PricingPolicy,
  type SetPricing,
} from '../../protocol/index.js';
import { inTransaction } from '../../platform/resources.js';
import { lockEvent } from '../../platform/event-row.js';
import {
  boundaryAtOrBefore,
  checkRules,
  isRefusal,
  money,
  readPolicy,
  storePolicy,
  type PricingDefaults,
} from '../../platform/pricing-policy.js';
import { writePrice, type PriceMove } from './price-change.js';

export interface PolicySet {
  outcome: Outcome<PricingPolicy>;
  /** Price moves committed with it (to count and announce). */
  moves: PriceMove[];
}

const refused = (outcome: Outcome<never>): PolicySet => ({ outcome, moves: [] });

export async function setPolicy(
  pool: Pool,
  shardCount: number,
  { eventId, pricing }: SetPricing,
  ctx: CallContext,
  defaults: PricingDefaults,
  now: Date,
): Promise<PolicySet> {
  if (ctx.role !== 'admin') return refused(refuse('FORBIDDEN', 'only admins set pricing'));
  return inTransaction(pool, async (client) => {
    // The policy row before the event row, in the order reprice takes them.
    const existing = await readPolicy(client, eventId, true);
    const row = await lockEvent(client, eventId);
    if (!row) return refused(refuse('NOT_FOUND', 'event not found'));
    if (row.status !== 'scheduled') return refused(refuse('EVENT_NOT_EDITABLE', `event is ${row.status}`));
    // A dynamic price in force is not a base; the base it moves around is.
    const basePrice = pricing.basePrice ?? (existing?.strategy === 'dynamic' ? existing.base_price : row.price);
    const checked = checkRules(pricing, basePrice, defaults);
    if (isRefusal(checked)) return refused(checked);

    const price =
      checked.strategy === 'fixed' ? basePrice : Math.min(checked.ceiling!, Math.max(checked.floor!, row.price));
    const firstTick = new Date(boundaryAtOrBefore(now.getTime(), checked.interval_s) + checked.interval_s * 1000);
    const reason =
      checked.strategy === 'fixed'
        ? `fixed price ${money(price)}, set by an admin`
        : price !== row.price
          ? `moved into the admin's range [${money(checked.floor!)}, ${money(checked.ceiling!)}]; demand is first weighed at ${firstTick.toISOString()}`
          : `dynamic pricing within [${money(checked.floor!)}, ${money(checked.ceiling!)}]; demand is first weighed at ${firstTick.toISOString()}`;
    const moves = price === row.price ? [] : [{ at: now, price, previous: row.price, reason }];
    await writePrice(client, shardCount, row, moves, checked.strategy, ctx.requestId);
    const stored = await storePolicy(
      client,
      eventId,
      checked,
      new Date(firstTick.getTime() - checked.interval_s * 1000),
      reason,
    );
    return {
      moves,
      outcome: ok({
        eventId,
        strategy: stored.strategy,
        basePrice: stored.base_price,
        floor: stored.floor,
        ceiling: stored.ceiling,
        maxStep: stored.max_step,
        intervalSeconds: stored.interval_s,
        price,
        currency: row.currency,
        reason,
      }),
    };
  });
}
