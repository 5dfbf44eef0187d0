// The pricing model on its own: bounds, the step, the reason, and
// determinism: the same domain stream gives the same prices, whatever order
// the per-type consumers deliver it in and wherever a restart cuts the run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DomainEvent } from '../../protocol/index.js';
import { applyEvent, boundariesDue, emptyHistory, evaluate, type History, type Step } from './demand.js';
import { recommend, type Demand, type Policy } from './model.js';

const T0 = Date.parse('2027-03-01T18:00:00.000Z');
const EVENT = '01937a4c-1f00-7000-8000-0000000000ee';
const policy: Policy = {
  basePrice: 2500,
  floor: 2000,
  ceiling: 4000,
  maxStep: 100,
  intervalSeconds: 10,
  shortWindowSeconds: 60,
  longWindowSeconds: 600,
};
const idle: Demand = {
  price: 2500,
  capacity: 1000,
  sold: 0,
  shortTickets: 0,
  longTickets: 0,
  waiting: 0,
  startsAt: T0 + 86_400_000,
  open: true,
};

describe('recommend', () => {
  test('when tickets sell far faster than the pace that sells out at the start, then the price rises by one step and says why', () => {
    const r = recommend(policy, { ...idle, sold: 810, shortTickets: 420, longTickets: 810, waiting: 12 }, T0);
    assert.equal(r.price, 2600);
    assert.match(
      r.reason,
      /^demand high: 420 tickets\/min over 1 min \(81 over 10 min\), 81% sold, waitlist 12, 1 d to start → \+1\.00 \(target /,
    );
  });

  test('when nothing sells, then the price falls by one step, and never below the floor', () => {
    assert.equal(recommend(policy, idle, T0).price, 2400);
    const r = recommend(policy, { ...idle, price: 2050 }, T0);
    assert.equal(r.price, 2000);
    assert.match(r.reason, /^demand low: .*→ -0\.50 \(target 20\.00, at floor\)$/);
  });

  test('when demand would go beyond the ceiling, then the price stops at the ceiling', () => {
    const r = recommend(
      { ...policy, maxStep: 10_000 },
      { ...idle, sold: 1000, shortTickets: 500, longTickets: 1000, waiting: 400 },
      T0,
    );
    assert.equal(r.price, 4000);
    assert.match(r.reason, /at ceiling/);
  });

  test('when the sale sells at exactly the pace that sells out at the start, then the price moves to the base price', () => {
    // 600 seats left, 600 minutes to go, 1 ticket a minute: pace term 0, under half sold, nobody waiting.
    const r = recommend(
      policy,
      {
        ...idle,
        price: 2500,
        capacity: 1000,
        sold: 400,
        shortTickets: 1,
        longTickets: 10,
        startsAt: T0 + 600 * 60_000,
      },
      T0,
    );
    assert.equal(r.price, 2500);
    assert.match(r.reason, /^demand steady: .*no change \(25\.00\)$/);
  });

  test('when the event has started or was cancelled, then the price stays', () => {
    assert.equal(recommend(policy, { ...idle, price: 3100, startsAt: T0 }, T0).price, 3100);
    assert.match(
      recommend(policy, { ...idle, price: 3100, open: false, shortTickets: 500 }, T0).reason,
      /^sale closed/,
    );
  });
});

/** A small deterministic PRNG, so the stream is the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A rush: quiet, then a burst of bookings and waitlist joins, some cancellations, then quiet again. */
function rushStream(): DomainEvent[] {
  const rand = prng(7);
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  let n = 0;
  const id = () => `01937a4c-1f00-7000-8000-${String(++n).padStart(12, '0')}`;
  const envelope = { eventId: EVENT, requestId: 'r', availability: null };
  const event = {
    id: EVENT,
    name: 'Hot',
    description: '',
    venue: 'Arena',
    startsAt: at(3 * 3_600_000),
    endsAt: null,
    capacity: 400,
    available: 400,
    held: 0,
    price: 2500,
    currency: 'EUR',
    maxTicketsPerUser: 4,
    status: 'scheduled' as const,
    version: 1,
    createdAt: at(0),
    updatedAt: at(0),
  };
  const out: DomainEvent[] = [
    { ...envelope, id: id(), type: 'event.created', version: 1, occurredAt: at(0), data: event },
  ];
  let version = 1;
  for (let ms = 30_000; ms < 240_000; ms += Math.floor(rand() * 900)) {
    const quantity = 1 + Math.floor(rand() * 4);
    const booking = {
      id: id(),
      eventId: EVENT,
      userId: id(),
      quantity,
      unitPrice: 2500,
      totalPrice: 2500 * quantity,
      currency: 'EUR',
      status: 'confirmed' as const,
      createdAt: at(ms),
      cancelledAt: null,
    };
    out.push({
      ...envelope,
      id: id(),
      type: 'booking.confirmed',
      version: ++version,
      occurredAt: at(ms),
      data: booking,
    });
    if (rand() < 0.05)
      out.push({
        ...envelope,
        id: id(),
        type: 'booking.cancelled',
        version: ++version,
        occurredAt: at(ms + 20_000),
        data: { ...booking, status: 'cancelled', cancelledAt: at(ms + 20_000) },
      });
    if (ms > 150_000 && rand() < 0.3) {
      const entry = {
        id: id(),
        eventId: EVENT,
        userId: id(),
        quantity: 2,
        priority: 0,
        position: 1,
        status: 'waiting' as const,
        offer: null,
        joinedAt: at(ms),
      };
      out.push({ ...envelope, id: id(), type: 'waitlist.joined', version, occurredAt: at(ms), data: entry });
      if (rand() < 0.3)
        out.push({
          ...envelope,
          id: id(),
          type: 'waitlist.changed',
          version,
          occurredAt: at(ms + 45_000),
          data: { ...entry, status: 'left', position: null },
        });
    }
  }
  return out;
}

function replay(
  events: readonly DomainEvent[],
  boundaries: readonly number[],
  price = 2500,
  history: History = emptyHistory(),
): Step[] {
  for (const e of events) applyEvent(history, e);
  return evaluate(policy, history, boundaries, price);
}

describe('replaying a domain stream', () => {
  const stream = rushStream();
  const boundaries = boundariesDue(T0, policy.intervalSeconds, T0 + 600_000, 1000);

  test('when a rush is replayed, then the price rises, stays in [floor, ceiling] and moves at most one step per interval', () => {
    const steps = replay(stream, boundaries);
    assert.equal(steps.length, 60);
    for (const s of steps) {
      assert.ok(s.price >= policy.floor && s.price <= policy.ceiling, `${s.price} in range`);
      assert.ok(Math.abs(s.price - s.previous) <= policy.maxStep, `${s.previous} → ${s.price} within a step`);
    }
    const peak = Math.max(...steps.map((s) => s.price));
    assert.ok(peak >= 2500 + 10 * policy.maxStep, `peak ${peak} shows the rush`);
    assert.ok(
      steps.slice(0, 3).every((s) => s.price < 2500),
      'before the rush, the idle sale drifts down',
    );
  });

  test('when the same stream is replayed twice, or delivered type by type in another order, then the prices are the same', () => {
    const first = replay(stream, boundaries);
    assert.deepEqual(replay(stream, boundaries), first);
    const byType = [...stream].sort((a, b) => b.type.localeCompare(a.type) || b.occurredAt.localeCompare(a.occurredAt));
    assert.deepEqual(replay(byType, boundaries), first);
  });

  test('when the run is cut at a boundary and resumed with what arrived later, then the prices are those of one run', () => {
    const whole = replay(stream, boundaries);
    const cut = 25;
    const history = emptyHistory();
    const cutAt = boundaries[cut - 1];
    assert.ok(cutAt !== undefined);
    const early = stream.filter((e) => Date.parse(e.occurredAt) <= cutAt);
    const before = replay(early, boundaries.slice(0, cut), 2500, history);
    const rest = stream.filter((e) => Date.parse(e.occurredAt) > cutAt);
    const last = before.at(-1);
    assert.ok(last);
    const after = replay(rest, boundaries.slice(cut), last.price, history);
    assert.deepEqual([...before, ...after], whole);
  });
});
