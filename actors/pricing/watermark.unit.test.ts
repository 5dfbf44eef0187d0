// The watermark's bookkeeping on its own: a boundary's facts count as
// applied only once the consumer has acknowledged through the stream's end as
// it was when the probe was taken, and the mark keeps moving while messages
// keep arriving (a sustained sale never stalls pricing).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ShardWatermark } from './watermark.js';

describe('ShardWatermark', () => {
  test('when nothing has been looked at, then no boundary is applied, whatever the ack floor', () => {
    assert.equal(new ShardWatermark().acked(1_000_000), -Infinity);
  });

  test('when the consumer has not acknowledged through the sequence a probe noted, then the mark stays behind', () => {
    const w = new ShardWatermark();
    w.probe({ at: 10_000, seq: 40 });
    assert.equal(w.acked(39), -Infinity);
    assert.equal(w.acked(40), 10_000);
  });

  test('when messages keep arriving, then each probe is met once its own sequence is acknowledged', () => {
    const w = new ShardWatermark();
    // A sale: every look finds more in the stream, and the consumer is always a few messages behind.
    for (let i = 1; i <= 20; i++) {
      w.probe({ at: i * 500, seq: i * 10 });
      w.acked(i * 10 - 7);
    }
    assert.equal(w.mark(), 19 * 500);
    assert.equal(w.acked(200), 20 * 500);
  });

  test('when a later probe has an earlier time (a transaction outlived the settle time), then the mark never goes back', () => {
    const w = new ShardWatermark();
    w.probe({ at: 5_000, seq: 10 });
    w.probe({ at: 4_000, seq: 12 });
    assert.equal(w.acked(12), 5_000);
  });

  test('when the consumer is far behind, then the probes kept are bounded and the newest still counts', () => {
    const w = new ShardWatermark();
    for (let i = 1; i <= 1000; i++) w.probe({ at: i, seq: i });
    assert.equal(w.acked(15), 15);
    assert.equal(w.acked(999), 15, 'the newest probe was moved on to seq 1000');
    assert.equal(w.acked(1000), 1000);
  });

  test('when the stream did not move between looks, then the newer time replaces the older', () => {
    const w = new ShardWatermark();
    w.probe({ at: 1_000, seq: 7 });
    w.probe({ at: 1_500, seq: 7 });
    assert.equal(w.acked(7), 1_500);
  });
});
