// Demand as the domain stream tells it, and the walk over interval
// boundaries. Every fact is kept with the stream's own time (occurredAt, or
// the time inside the event's data), and a boundary B looks only at what
// occurred by B: so the order in which the per-type consumers deliver does
// not matter, and replaying a stream gives the same prices.
import type { DomainEvent, DomainEventType } from '../../protocol/index.js';
import { recommend, type Demand, type Policy } from './model.js';

/** The domain event types pricing reads. */
export const DEMAND_EVENTS = [
  'event.created',
  'event.updated',
  'event.cancelled',
  'booking.confirmed',
  'booking.cancelled',
  'waitlist.joined',
  'waitlist.changed',
] as const satisfies readonly DomainEventType[];

export interface EventFacts {
  capacity: number;
  startsAt: number;
  /** When event.cancelled occurred; the sale is closed at every boundary from then. */
  cancelledAt: number | null;
  /** The event row version the capacity and start time are from (the newest wins). */
  version: number;
}

export interface WaitingEntry {
  quantity: number;
  joinedAt: number;
  /** When it first stopped waiting (offered, booked, expired or left). */
  leftAt: number | null;
}

export interface History {
  event: EventFacts | null;
  /** Net tickets of the seconds up to foldedUntil, summed once they left every window. */
  soldBefore: number;
  foldedUntil: number;
  /** Net tickets by second (epoch ms of occurredAt rounded up). */
  sales: Map<number, number>;
  waitlist: Map<string, WaitingEntry>;
}

export interface Step {
  /** The boundary, epoch ms. */
  at: number;
  price: number;
  previous: number;
  reason: string;
}

export const emptyHistory = (): History => ({
  event: null,
  soldBefore: 0,
  foldedUntil: -Infinity,
  sales: new Map(),
  waitlist: new Map(),
});

/** occurredAt rounded up to the second: boundary B (whole seconds) counts exactly what occurred by B. */
export const saleSecond = (occurredAt: string): number => Math.ceil(Date.parse(occurredAt) / 1000) * 1000;

const earliest = (a: number | null | undefined, b: number | null): number | null =>
  a === null || a === undefined ? b : b === null ? a : Math.min(a, b);

/** One domain event's effect on the history. store.ts does the same to the tables. */
export function applyEvent(h: History, e: DomainEvent): void {
  switch (e.type) {
    case 'event.created':
    case 'event.updated':
    case 'event.cancelled': {
      const cancelledAt = earliest(
        h.event?.cancelledAt,
        e.type === 'event.cancelled' ? Date.parse(e.occurredAt) : null,
      );
      h.event =
        !h.event || e.version > h.event.version
          ? { capacity: e.data.capacity, startsAt: Date.parse(e.data.startsAt), version: e.version, cancelledAt }
          : { ...h.event, cancelledAt };
      return;
    }
    case 'booking.confirmed':
    case 'booking.cancelled': {
      const tickets = e.type === 'booking.confirmed' ? e.data.quantity : -e.data.quantity;
      const second = saleSecond(e.occurredAt);
      if (second <= h.foldedUntil) h.soldBefore += tickets;
      else h.sales.set(second, (h.sales.get(second) ?? 0) + tickets);
      return;
    }
    case 'waitlist.joined':
    case 'waitlist.changed': {
      const left = e.data.status === 'waiting' ? null : Date.parse(e.occurredAt);
      const known = h.waitlist.get(e.data.id);
      h.waitlist.set(e.data.id, {
        quantity: e.data.quantity,
        joinedAt: Date.parse(e.data.joinedAt),
        leftAt: earliest(known?.leftAt, left),
      });
      return;
    }
    default:
    // Other domain events say nothing about demand.
  }
}

/** The demand at boundary `at`, with `price` in force; undefined until the event itself is known. */
export function demandAt(h: History, policy: Policy, at: number, price: number): Demand | undefined {
  if (!h.event) return undefined;
  let sold = h.soldBefore;
  let shortTickets = 0;
  let longTickets = 0;
  for (const [second, tickets] of h.sales) {
    if (second > at) continue;
    sold += tickets;
    if (second > at - policy.shortWindowSeconds * 1000) shortTickets += tickets;
    if (second > at - policy.longWindowSeconds * 1000) longTickets += tickets;
  }
  let waiting = 0;
  for (const w of h.waitlist.values()) {
    if (w.joinedAt <= at && (w.leftAt === null || w.leftAt > at)) waiting += w.quantity;
  }
  const { capacity, startsAt, cancelledAt } = h.event;
  return {
    price,
    capacity,
    sold,
    shortTickets,
    longTickets,
    waiting,
    startsAt,
    open: cancelledAt === null || cancelledAt > at,
  };
}

/** The boundaries after `lastTick` up to `until`, at most `max` of them. */
export function boundariesDue(lastTick: number, intervalSeconds: number, until: number, max: number): number[] {
  const out: number[] = [];
  for (let b = lastTick + intervalSeconds * 1000; b <= until && out.length < max; b += intervalSeconds * 1000)
    out.push(b);
  return out;
}

/** Evaluates each boundary in order, each starting from the price the one before left. */
export function evaluate(policy: Policy, h: History, boundaries: readonly number[], price: number): Step[] {
  const steps: Step[] = [];
  let current = price;
  for (const at of boundaries) {
    const demand = demandAt(h, policy, at, current);
    if (!demand) break;
    const next = recommend(policy, demand, at);
    steps.push({ at, price: next.price, previous: current, reason: next.reason });
    current = next.price;
  }
  return steps;
}
