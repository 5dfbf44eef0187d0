import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ANOMALY,
  cancellationBurst,
  MINUTE_MS,
  opensEpisode,
  stalledSale,
  velocitySpike,
  type MinuteCounts,
} from './anomalies.js';

const T0 = Date.parse('2026-11-24T18:00:00Z');
const minute = (i: number) => T0 + i * MINUTE_MS;
/** `perMinute` tickets in each of minutes [from, to), plus what `extra` adds. */
const series = (
  from: number,
  to: number,
  perMinute: number,
  extra: Record<number, Partial<MinuteCounts>> = {},
): MinuteCounts[] =>
  Array.from(
    {
      length:
        Math.max(
          to,
          ...Object.keys(extra)
            .map(Number)
            .map((k) => k + 1),
        ) - from,
    },
    (_, k) => {
      const i = from + k;
      return { at: minute(i), tickets: i < to ? perMinute : 0, cancellations: 0, ...extra[i] };
    },
  );

test('when a minute sells five times its 30-minute baseline and at least the minimum, then it is a velocity spike', () => {
  const s = series(0, 30, 2, { 30: { tickets: 10 } });
  assert.deepEqual(velocitySpike(s, minute(30))?.kind, 'velocity-spike');
  assert.equal(velocitySpike(s, minute(30))?.baseline, 2);
  assert.equal(velocitySpike(series(0, 30, 2, { 30: { tickets: 9 } }), minute(30)), null, 'below 5x');
  assert.equal(velocitySpike(series(0, 30, 0.2, { 30: { tickets: 9 } }), minute(30)), null, 'below the minimum');
});

test('when a sale has just opened (no baseline), then its first rush is not a spike', () => {
  assert.equal(velocitySpike(series(30, 30, 0, { 30: { tickets: 500 } }), minute(30)), null);
});

test('when a minute has five cancellations against none before, then it is a burst; four is not', () => {
  assert.equal(
    cancellationBurst(series(0, 30, 2, { 30: { cancellations: 5 } }), minute(30))?.kind,
    'cancellation-burst',
  );
  assert.equal(cancellationBurst(series(0, 30, 2, { 30: { cancellations: 4 } }), minute(30)), null);
});

test('when a moving sale has sold nothing for the stall time, then it is stalled; a sale that never moved is not', () => {
  const moving = series(0, 30, 1);
  const last = minute(29);
  assert.equal(stalledSale(moving, last, last + (ANOMALY.stallMinutes + 1) * MINUTE_MS)?.kind, 'stalled-sale');
  assert.equal(stalledSale(moving, last, last + ANOMALY.stallMinutes * MINUTE_MS), null, 'one minute too soon');
  assert.equal(stalledSale(series(0, 30, 0.1), last, last + 60 * MINUTE_MS), null, 'too slow to call it stalled');
});

test('when anomalies follow each other, then they are one episode until a quiet gap; a stall is one episode per last sale', () => {
  assert.equal(opensEpisode('velocity-spike', undefined, minute(30)), true);
  assert.equal(opensEpisode('velocity-spike', minute(30), minute(30 + ANOMALY.episodeGapMinutes)), false);
  assert.equal(opensEpisode('velocity-spike', minute(30), minute(31 + ANOMALY.episodeGapMinutes)), true);
  assert.equal(opensEpisode('stalled-sale', minute(29), minute(29)), false);
  assert.equal(opensEpisode('stalled-sale', minute(29), minute(45)), true);
});
