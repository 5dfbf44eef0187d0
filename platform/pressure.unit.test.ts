// The foreground's rate, as a background actor reads it to tell a sale from an ordinary day.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForegroundRate, Pressure, SaleWatch } from './pressure.js';

test('when bookings begin, then the rate is what began over the last second or more, and 0 once they stop', () => {
  const pressure = new Pressure();
  let now = 0;
  const rate = new ForegroundRate(pressure, () => now);
  for (let i = 0; i < 30; i++) pressure.begin();
  now = 500;
  assert.equal(rate.perSecond(), 0, 'not a full second yet: the last rate (none)');
  now = 1500;
  assert.equal(rate.perSecond(), 20, '30 begun in 1.5 s');
  for (let i = 0; i < 5; i++) pressure.begin();
  now = 1900;
  assert.equal(rate.perSecond(), 20, 'within the second, the same rate');
  now = 2500;
  assert.equal(rate.perSecond(), 5);
  now = 3500;
  assert.equal(rate.perSecond(), 0, 'a quiet second');
});

test('when the rate dips under the threshold for a moment, then the sale stays on until it has stayed under for the quiet time', () => {
  let now = 0;
  let perSecond = 50;
  const sale = new SaleWatch({ perSecond: () => perSecond }, 10, 10_000, () => now);
  assert.equal(sale.on(), true);
  perSecond = 2;
  now = 3_000;
  assert.equal(sale.on(), true, 'a dip of 3 s');
  perSecond = 40;
  now = 4_000;
  assert.equal(sale.on(), true);
  perSecond = 0;
  now = 13_999;
  assert.equal(sale.on(), true);
  now = 14_000;
  assert.equal(sale.on(), false, '10 s under');
  assert.equal(new SaleWatch({ perSecond: () => 9 }, 10, 10_000, () => now).on(), false, 'never reached');
});
