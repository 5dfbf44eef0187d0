// Reads: the price a client is quoted, and the history an admin pages through.
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type CallContext,
  type ListPriceHistory,
  type Outcome,
  type PriceHistoryPage,
  type PriceQuote,
  type PricingStrategy,
} from '../../protocol/index.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';

interface QuoteRow {
  price: number;
  currency: string;
  status: string;
  starts_at: Date;
  strategy: PricingStrategy | null;
  base_price: number | null;
  interval_s: number | null;
  last_tick: Date | null;
  last_reason: string | null;
}

/** The price in force; for dynamic pricing also when it may next change (the next boundary plus the settle time). */
export async function quote(pool: Pool, eventId: string, settleMs: number): Promise<Outcome<PriceQuote>> {
  const { rows } = await pool.query<QuoteRow>({
    name: 'pricing.quote',
    text: `SELECT e.price, e.currency, e.status, e.starts_at, p.strategy, p.base_price, p.interval_s, p.last_tick, p.last_reason
           FROM events e LEFT JOIN event_pricing p ON p.event_id = e.id WHERE e.id = $1`,
    values: [eventId],
  });
  const r = rows[0];
  if (!r) return refuse('NOT_FOUND', 'event not found');
  if (r.strategy !== 'dynamic') {
    return ok({
      price: r.price,
      currency: r.currency,
      basePrice: r.price,
      strategy: 'fixed',
      reason: 'fixed price',
      validUntil: null,
    });
  }
  const next = r.last_tick!.getTime() + r.interval_s! * 1000;
  const open = r.status === 'scheduled' && next < r.starts_at.getTime();
  return ok({
    price: r.price,
    currency: r.currency,
    basePrice: r.base_price!,
    strategy: 'dynamic',
    reason: r.last_reason!,
    // An evaluation running late is due any moment: never promise a time already past.
    validUntil: open ? new Date(Math.max(next + settleMs, Date.now())).toISOString() : null,
  });
}

interface HistoryRow {
  id: string;
  at: Date;
  price: number;
  previous: number;
  strategy: PricingStrategy;
  reason: string;
  version: number;
}

export async function listHistory(
  pool: Pool,
  req: ListPriceHistory,
  ctx: CallContext,
): Promise<Outcome<PriceHistoryPage>> {
  if (ctx.role !== 'admin') return refuse('FORBIDDEN', 'only admins read the price history');
  const limit = req.limit ?? 20;
  const key = req.cursor ? decodeCursor(req.cursor, ['uuid']) : undefined;
  if (req.cursor && !key) return refuse('VALIDATION_FAILED', 'cursor is not valid');
  // Newest first; ids are UUIDv7, so id order is the order the changes were written.
  const { rows } = await pool.query<HistoryRow>(
    `SELECT id, at, price, previous, strategy, reason, version FROM price_history
     WHERE event_id = $1 ${key ? 'AND id < $3' : ''} ORDER BY id DESC LIMIT $2`,
    key ? [req.eventId, limit + 1, key[0]] : [req.eventId, limit + 1],
  );
  const items = rows.slice(0, limit).map((r) => ({ ...r, at: r.at.toISOString() }));
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
}
