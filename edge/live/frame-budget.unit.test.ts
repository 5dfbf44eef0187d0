// The frame budget: every move near the front, a meaningful step farther
// back, and a refresh after a quiet spell; and the edge's QueueWatch keeps to
// it when a room's ticks move a crowd.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { FRONT, frameDue, MIN_GAP_MS, REFRESH_MS } from './frame-budget.js';
import { lineBroker, watchedRoom } from './queue-fakes.js';

test('near the front every move is a frame; farther back only a 5% step after a second, any move after the refresh, a redraw at once', () => {
  const t0 = 1_000_000;
  assert.equal(frameDue({ position: null, at: 0 }, 7000, t0), true, 'the first place');
  assert.equal(frameDue({ position: 50, at: t0 }, 50, t0 + 60_000), false, 'an unmoved place');
  assert.equal(frameDue({ position: FRONT + 5, at: t0 }, FRONT, t0 + 1), true, 'at the front, at once');
  assert.equal(frameDue({ position: 10_000, at: t0 }, 9_600, t0 + MIN_GAP_MS), false, '4% is not a step');
  assert.equal(frameDue({ position: 10_000, at: t0 }, 9_500, t0 + MIN_GAP_MS - 1), false, 'a step within the gap');
  assert.equal(frameDue({ position: 10_000, at: t0 }, 9_500, t0 + MIN_GAP_MS), true, 'a 5% step after the gap');
  assert.equal(frameDue({ position: 10_000, at: t0 }, 9_999, t0 + REFRESH_MS), true, 'any move after the refresh');
  assert.equal(frameDue({ position: 500, at: t0 }, 12_000, t0 + 1), true, 'moved back by a redraw, at once');
});

test('when ticks move a crowd quickly, then the person near the front gets every move and the one far back none', async () => {
  const eventId = randomUUID();
  const near = randomUUID();
  const far = randomUUID();
  const place = new Map<string, number>([
    [near, 100],
    [far, 5000],
  ]);
  const placeOf = (userId: string): number => place.get(userId) ?? 0;
  const broker = lineBroker(eventId, (userId) => placeOf(userId) - 1, { ratePerSecond: 20 });
  const { watch, frames, subscribe, tick } = watchedRoom(eventId, broker);
  for (const userId of [near, far]) await subscribe(userId);
  for (let seq = 1; seq <= 5; seq += 1)
    await tick(
      seq,
      Array.from({ length: 10 }, (_, i) => (seq - 1) * 10 + i),
      20,
    );
  watch.stop();
  assert.deepEqual(frames.get(near), [100, 90, 80, 70, 60, 50]);
  assert.deepEqual(frames.get(far), [5000], 'moved 50 of 5,000 within a second: no frame');
});
