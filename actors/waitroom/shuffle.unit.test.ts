import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newSeed, positionChiSquare, seededShuffle } from './shuffle.js';

test('when the same seed shuffles the same input twice, then the order is the same (an operator can replay the draw)', () => {
  const input = Array.from({ length: 1000 }, (_, i) => `t${i}`);
  const seed = newSeed();
  assert.deepEqual(seededShuffle(input, seed), seededShuffle(input, seed));
  assert.notDeepEqual(seededShuffle(input, seed), seededShuffle(input, newSeed()));
  assert.deepEqual([...seededShuffle(input, seed)].sort(), [...input].sort());
});

test('when 8 tickets are shuffled 8,000 times, then every ticket lands in every place about equally often (chi-square)', () => {
  const { chi2, df } = positionChiSquare(8, 8000);
  // df = 49: the 99.9th percentile of chi-square(49) is about 85.4.
  assert.ok(chi2 < 85.4, `chi2 ${chi2.toFixed(1)} with ${df} degrees of freedom`);
});
