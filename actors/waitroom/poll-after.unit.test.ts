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

test('when a ticket waits with an estimate, then it polls after a fifth of it, between 1 and 30 s', () => {
  assert.equal(pollAfterSeconds(waiting(400, 100), top), 20);
  assert.equal(pollAfterSeconds(waiting(3, 2), top), 1, 'near the front: every second');
  assert.equal(pollAfterSeconds(waiting(1, 0), top), 1);
  assert.equal(pollAfterSeconds(waiting(9000, 3600), top), 30, 'far back: at most 30 s');
});

test('when a ticket is in the pre-queue, then it polls at opensAt, between 1 and 30 s', () => {
  assert.equal(pollAfterSeconds(waiting(null, 12), top), 12);
  assert.equal(pollAfterSeconds(waiting(null, 0), top), 1, 'opensAt passed, not drawn yet');
  assert.equal(pollAfterSeconds(waiting(null, 3600), top), 30);
});

test('when nothing is measured yet, then a waiting ticket polls after a few seconds', () => {
  assert.equal(pollAfterSeconds(waiting(40, null), top), 2);
});

test('when a ticket has nothing more to wait for, then there is no next poll', () => {
  for (const state of ['admitted', 'expired', 'left'] as const)
    assert.equal(pollAfterSeconds({ state, position: null, estimatedWaitSeconds: 0 }, top), null, state);
});

test('when thousands get the same value, then they come back spread over [0.8·v, v], never under 1 s', () => {
  assert.equal(pollAfterSeconds(waiting(9000, 3600), bottom), 24);
  assert.equal(pollAfterSeconds(waiting(2, 1), bottom), 1);
  let seed = 1;
  const random = () => ((seed = (seed * 48_271) % 2_147_483_647) - 1) / 2_147_483_646;
  const spread = (estimate: number) =>
    [...new Set(Array.from({ length: 2000 }, () => pollAfterSeconds(waiting(500, estimate), random) ?? 0))].sort(
      (a, b) => a - b,
    );
  assert.deepEqual(spread(3600), [24, 25, 26, 27, 28, 29, 30]);
  assert.deepEqual(spread(10), [1, 2], 'even a 2 s answer is spread');
});
