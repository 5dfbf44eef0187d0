import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pollAfterSeconds } from './poll-after.js';

const top = () => 0.999_999; // the jitter's far end: v itself
const bottom = () => 0; // its near end: 0.8·v
const waiting = (position: number | null, estimatedWaitSeconds: number | null) => ({
  state: 'waiting' as const,
  position,
  estimatedWaitSeconds,
});

test('when a ticket waits with an estimate, then it polls after a fifth of it, between 1 and 60 s', () => {
  assert.equal(pollAfterSeconds(waiting(400, 100), top), 20);
  assert.equal(pollAfterSeconds(waiting(3, 2), top), 1, 'near the front: every second');
  assert.equal(pollAfterSeconds(waiting(1, 0), top), 1);
  assert.equal(pollAfterSeconds(waiting(9000, 3600), top), 60, 'far back: at most 60 s');
});

test('when a ticket is in the pre-queue, then it polls once after the draw, 1,000 a second in join order', () => {
  const prequeue = (untilOpen: number, joinOrder: number) => ({ ...waiting(null, untilOpen), joinOrder });
  assert.equal(pollAfterSeconds(prequeue(12, 1), top), 13, 'the first to join: a second after opensAt');
  assert.equal(pollAfterSeconds(prequeue(12, 1000), top), 13);
  assert.equal(pollAfterSeconds(prequeue(12, 1001), top), 14, 'the next 1,000 a second later');
  assert.equal(pollAfterSeconds(prequeue(12, 10_000), top), 22);
  assert.equal(pollAfterSeconds(prequeue(0, 1), bottom), 1, 'opensAt passed, not drawn yet');
  assert.equal(pollAfterSeconds(prequeue(12, 60_000), top), 60, 'a turn past 60 s: ask again before it');
  assert.equal(pollAfterSeconds(prequeue(3600, 1), bottom), 48, 'far from opensAt: at most 60 s, then again');
});

test('when nothing is measured yet, then a waiting ticket polls after a few seconds', () => {
  assert.equal(pollAfterSeconds(waiting(40, null), top), 2);
});

test('when a ticket has nothing more to wait for, then there is no next poll', () => {
  for (const state of ['admitted', 'expired', 'left'] as const)
    assert.equal(pollAfterSeconds({ state, position: null, estimatedWaitSeconds: 0 }, top), null, state);
});

test('when thousands get the same value, then they come back spread over [0.8·v, v], never under 1 s', () => {
  assert.equal(pollAfterSeconds(waiting(9000, 3600), bottom), 48);
  assert.equal(pollAfterSeconds(waiting(2, 1), bottom), 1);
  let seed = 1;
  const random = () => ((seed = (seed * 48_271) % 2_147_483_647) - 1) / 2_147_483_646;
  const spread = (estimate: number) =>
    [...new Set(Array.from({ length: 2000 }, () => pollAfterSeconds(waiting(500, estimate), random) ?? 0))].sort(
      (a, b) => a - b,
    );
  assert.deepEqual(spread(3600), [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
  assert.deepEqual(spread(10), [1, 2], 'even a 2 s answer is spread');
});
