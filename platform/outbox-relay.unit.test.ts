// The relay's pacing: commits that come while a pass runs, or within the gap after it, go together in
// the next pass; a backlog and a shutdown do not wait. Postgres and JetStream are fakes that record
// what the relay asked of them (the relay's publishing itself is tested on real servers in
// supervisor/test/outbox-recovery.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JetStreamClient } from 'nats';
import type pg from 'pg';
import { nextTurn } from './next-turn.js';
import { OutboxRelay } from './outbox-relay.js';

interface Row {
  seq: string;
  id: string;
  subject: string;
  payload: string;
}

/** An outbox table of one shard, and the passes (SELECTs of rows) run on it. */
class FakeOutbox {
  rows: Row[] = [];
  passes: number[] = [];
  published: string[] = [];
  private seq = 0;

  add(n: number): void {
    for (let i = 0; i < n; i++) {
      const seq = String(++this.seq);
      this.rows.push({ seq, id: `id-${seq}`, subject: 'evently.domain.0', payload: '{}' });
    }
  }

  pool(): pg.Pool {
    const query = async (q: string | { name?: string; values?: unknown[] }) => {
      const name = typeof q === 'string' ? q : q.name;
      if (name === 'outbox.lock-shards') return { rows: [{ shard: 0 }] };
      if (name === 'outbox.next') {
        const limit = (q as { values: [number[], number] }).values[1];
        const rows = this.rows.slice(0, limit);
        this.passes.push(rows.length);
        return { rows };
      }
      if (name === 'outbox.delete') {
        const gone = new Set((q as { values: [string[]] }).values[0]);
        this.rows = this.rows.filter((r) => !gone.has(r.seq));
      }
      return { rows: [] };
    };
    return { connect: async () => ({ query, release: () => {} }) } as unknown as pg.Pool;
  }

  js(): JetStreamClient {
    return {
      publish: async (_subject: string, _payload: string, opts: { msgID: string }) => {
        this.published.push(opts.msgID);
        return { seq: this.published.length };
      },
    } as unknown as JetStreamClient;
  }
}

const silent = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} } as never;

/** A relay of shard 0 over `outbox`; the poll is too slow to matter in a test. */
const relayOf = (outbox: FakeOutbox, gapMs: number) =>
  new OutboxRelay(outbox.pool(), outbox.js(), [0], silent, { pollMs: 60_000, gapMs });

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (i > 20_000) assert.fail(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

test('when commits come within the gap after a pass, then they wait for one pass together, and stop() publishes them at once', async () => {
  const outbox = new FakeOutbox();
  // A gap no machine's slowness reaches: whatever runs before stop() ran without waiting for it.
  const relay = relayOf(outbox, 60_000);
  outbox.add(1);
  relay.start();
  await until('the first pass', () => outbox.published.length === 1);
  for (let i = 0; i < 3; i++) {
    outbox.add(2);
    relay.kick([0]);
    await nextTurn();
  }
  for (let i = 0; i < 50; i++) await nextTurn();
  assert.deepEqual(outbox.passes, [1], 'no pass within the gap');
  await relay.stop();
  assert.deepEqual(outbox.passes, [1, 6], 'the six rows of three commits in one pass');
  assert.equal(outbox.published.length, 7);
  assert.equal(outbox.rows.length, 0);
});

test('when a pass finds a full batch, then the next pass goes at once, gap or not', async () => {
  const outbox = new FakeOutbox();
  const relay = relayOf(outbox, 60_000);
  outbox.add(700);
  relay.start();
  await until('the backlog drained', () => outbox.rows.length === 0);
  assert.deepEqual(outbox.passes, [500, 200]);
  await relay.stop();
});

test('when the gap is 0, then a commit right after a pass gets the next pass at once', async () => {
  const outbox = new FakeOutbox();
  const relay = relayOf(outbox, 0);
  outbox.add(1);
  relay.start();
  await until('the first pass', () => outbox.published.length === 1);
  outbox.add(1);
  relay.kick([0]);
  // No timer: the fakes answer in microtasks, so the pass is done within a few turns of the loop.
  for (let i = 0; i < 50; i++) await nextTurn();
  assert.deepEqual(outbox.passes, [1, 1]);
  assert.equal(outbox.rows.length, 0);
  await relay.stop();
});
