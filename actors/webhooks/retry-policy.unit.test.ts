import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRetryMs } from './retry-policy.js';

const policy = { baseMs: 5_000, maxMs: 3_600_000, windowMs: 86_400_000 };

test('when attempts fail, then waits double from the base, between half and all of it, up to the cap', () => {
  const start = new Date(0);
  assert.equal(
    nextRetryMs(policy, 1, start, 1, () => 0),
    2_500,
  );
  assert.equal(
    nextRetryMs(policy, 1, start, 1, () => 1),
    5_000,
  );
  assert.equal(
    nextRetryMs(policy, 3, start, 1, () => 1),
    20_000,
  );
  assert.equal(
    nextRetryMs(policy, 30, start, 1, () => 1),
    3_600_000,
  );
});

test('when failures go on, then retries continue for the whole window (at least 24 h) and stop after it', () => {
  let now = 0;
  let attempts = 0;
  for (;;) {
    const wait = nextRetryMs(policy, ++attempts, new Date(0), now, () => 0);
    if (wait === null) break;
    now += wait;
  }
  assert.ok(now >= 86_400_000, `retried for ${now} ms`);
  assert.ok(attempts > 20 && attempts < 60, `${attempts} attempts`);
});
