// Unit tests of the event row's seat arithmetic (no database: writeEvent writes what applyWrite returns).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyWrite, availabilityOf, everySeatBack, seatsTaken, type EventRow } from './event-row.js';

const row = (counts: Partial<EventRow> = {}): EventRow => ({
  id: 'e1',
  name: 'Gig',
  description: '',
  venue: 'Hall',
  starts_at: new Date('2030-01-01T20:00:00Z'),
  ends_at: null,
  capacity: 100,
  available: 60,
  held: 10,
  set_aside: 5,
  price: 2500,
  currency: 'EUR',
  max_tickets_per_user: 4,
  status: 'scheduled',
  version: 7,
  created_at: new Date(0),
  updated_at: new Date(0),
  open: true,
  ended: false,
  ...counts,
});

test('when seats move, then each count moves by its delta and what leaves `available` alone is sold', () => {
  const after = applyWrite(row(), { seats: { available: -3 } });
  assert.deepEqual([after.available, after.held, after.set_aside], [57, 10, 5]);
  assert.equal(seatsTaken(after), 43);
  const offered = applyWrite(row(), { seats: { setAside: -5, held: 4, available: 1 } });
  assert.deepEqual([offered.available, offered.held, offered.set_aside], [61, 14, 0]);
});

test('when a move would take a count below zero or place more seats than the capacity, then it is refused', () => {
  assert.throws(() => applyWrite(row(), { seats: { available: -61 } }), /does not fit/);
  assert.throws(() => applyWrite(row(), { seats: { held: -11 } }), /does not fit/);
  assert.throws(() => applyWrite(row(), { seats: { available: 26 } }), /does not fit/);
  assert.throws(() => applyWrite(row(), { set: { capacity: 74 } }), /does not fit/);
});

test('when an event is cancelled, then every seat is back on sale', () => {
  const after = applyWrite(row(), { seats: everySeatBack(row()), set: { status: 'cancelled' } });
  assert.deepEqual([after.available, after.held, after.set_aside, after.status], [100, 0, 0, 'cancelled']);
});

test('when fields are set, then they change and the version is left to the database', () => {
  const after = applyWrite(row(), { set: { price: 3000, capacity: 120 }, seats: { available: 20 } });
  assert.equal(after.price, 3000);
  assert.equal(after.version, 7);
  assert.deepEqual(availabilityOf(after), { available: 80, held: 15, capacity: 120, price: 3000, status: 'scheduled' });
});
