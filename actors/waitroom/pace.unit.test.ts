import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { BookingTimes, FRESH_MS, SWEEP_AT } from './booking-times.js';
import { estimateSeconds } from '../../protocol/index.js';
import { adaptiveDue, fixedDue, MeasuredRate } from './pace.js';

const pace = { tickMs: 500, startShoppers: 50, shopSeconds: 5, windowSeconds: 10, targetBookingMs: 25 };

test('when a fixed rate of 90 a minute ticks unevenly for a minute, then exactly 90 are admitted', () => {
  let carry = 0;
  let admitted = 0;
  for (const elapsed of Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? 200 : 650))) {
    const due = fixedDue(90, elapsed, carry, 100);
    carry = due.carry;
    admitted += due.admit;
  }
  // 40 ticks of 200 ms and 80 of 650 ms: 60 s.
  assert.equal(admitted, 90);
});

test('when nothing is on sale, then neither pace admits anyone', () => {
  assert.equal(fixedDue(600, 1000, 0.5, 0).admit, 0);
  assert.equal(adaptiveDue({ available: 0, recentBookings: 0, shopping: 0 }, pace), 0);
});

test('when the booking path completes more, then the adaptive pace lets more shop, and never beyond the target', () => {
  assert.equal(adaptiveDue({ available: 100, recentBookings: 0, shopping: 0 }, pace), 50, 'the start');
  assert.equal(
    adaptiveDue({ available: 100, recentBookings: 0, shopping: 50 }, pace),
    0,
    'start shoppers still shopping',
  );
  // 200 bookings/s: target 1000 shopping, growth at most 2 × 100 per tick.
  assert.equal(adaptiveDue({ available: 5000, recentBookings: 2000, shopping: 100 }, pace), 200);
  assert.equal(adaptiveDue({ available: 5000, recentBookings: 2000, shopping: 950 }, pace), 50);
});

test('when few seats are left, then the adaptive pace lets in no more than the seats nobody shopping claims', () => {
  assert.equal(adaptiveDue({ available: 30, recentBookings: 0, shopping: 0 }, pace), 30, 'start capped by seats');
  assert.equal(adaptiveDue({ available: 120, recentBookings: 2000, shopping: 100 }, pace), 20);
  assert.equal(
    adaptiveDue({ available: 80, recentBookings: 2000, shopping: 100 }, pace),
    0,
    'more shopping than seats',
  );
});

test('when the edges answer the bookings slower than the target, then the adaptive pace admits nobody until they are fast again', () => {
  const demand = { available: 5000, recentBookings: 2000, shopping: 100 };
  assert.equal(adaptiveDue(demand, pace, 40), 0, 'p90 40 ms against 25');
  assert.equal(adaptiveDue(demand, pace, 25), 200, 'at the target');
  assert.equal(adaptiveDue(demand, pace, undefined), 200, 'no bookings lately: no signal');
  assert.equal(adaptiveDue(demand, { ...pace, targetBookingMs: 0 }, 400), 200, 'signal off');
});

test('when edges report booking times, then the worst fresh report counts and stale ones are forgotten', () => {
  const times = new BookingTimes();
  const eventId = randomUUID();
  const t0 = 1_000_000;
  times.note({ eventId, edge: 'a', count: 40, p90Ms: 12 }, t0);
  times.note({ eventId, edge: 'b', count: 3, p90Ms: 31 }, t0 + 500);
  assert.equal(times.p90Ms(eventId, t0 + 1000), 31, 'one slow edge is people waiting');
  times.note({ eventId, edge: 'a', count: 40, p90Ms: 14 }, t0 + 2400);
  assert.equal(times.p90Ms(eventId, t0 + 2600), 14, "b's report went stale");
  assert.equal(times.p90Ms(eventId, t0 + 2400 + FRESH_MS + 1), undefined, 'no bookings lately');
  assert.equal(times.p90Ms(randomUUID(), t0), undefined);
});

test('when reports of many events nobody asks about go stale, then the next report sweeps them out', () => {
  const times = new BookingTimes();
  const t0 = 1_000_000;
  for (let i = 0; i < SWEEP_AT; i++) times.note({ eventId: randomUUID(), edge: 'a', count: 1, p90Ms: 5 }, t0);
  assert.equal(times.events, SWEEP_AT);
  const fresh = randomUUID();
  times.note({ eventId: fresh, edge: 'a', count: 1, p90Ms: 7 }, t0 + FRESH_MS + 1);
  assert.equal(times.events, 1, 'only the fresh report is kept');
  assert.equal(times.p90Ms(fresh, t0 + FRESH_MS + 1), 7);
});

test('when admissions are measured, then the estimate is the place over the measured rate', () => {
  const rate = new MeasuredRate(30_000);
  const t0 = 1_000_000;
  for (let i = 0; i < 10; i++) rate.add(5, t0 + i * 1000);
  assert.equal(rate.perSecond(t0 + 10_000), 5);
  assert.equal(estimateSeconds(50, 5), 10);
  assert.equal(estimateSeconds(50, 0), null);
});
