// The thread-level fence (lease-deadlines.ts), with a real Postgres and a real
// worker thread: the main thread writes deadlines as the lease keeper does, and
// a thread that guards its commits stops committing once its shard's deadline
// has passed, though nobody ends it. Also: the monotonic clock reads alike on
// every thread, which the deadlines need (performance.now() does not).
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { startStack, type Stack } from '../ops/testing/servers.js';
import { LeaseDeadlines, monotonicMs, newDeadlineBuffer } from './lease-deadlines.js';

let dir: string;
let stack: Stack;
let pool: pg.Pool;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evently-deadlines-'));
  await chmod(dir, 0o755); // Postgres runs as its own user and must enter it.
  stack = await startStack({
    dataDir: dir,
    services: { nats: false, redis: false, mail: false },
    log: () => undefined,
  });
  pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE fenced_writes (n int PRIMARY KEY)');
});
after(async () => {
  await pool.end();
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

// The worker: guards its commits for shards [3, 4], then writes row n on each message and answers what happened.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const d = await import(workerData.deadlinesModule);
  const r = await import(workerData.resourcesModule);
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: workerData.databaseUrl, max: 1 });
  d.guardCommits(new d.LeaseDeadlines(workerData.buffer), [3, 4]);
  parentPort.on('message', async (m) => {
    if (m.clock) return parentPort.postMessage({ at: d.monotonicMs() });
    try {
      await r.inTransaction(pool, (c) => c.query('INSERT INTO fenced_writes VALUES ($1)', [m.n]));
      parentPort.postMessage({ n: m.n, committed: true });
    } catch (err) {
      parentPort.postMessage({ n: m.n, committed: false, name: err.name, shard: err.shard });
    }
  });
  parentPort.postMessage({ ready: true });
})();
`;

function startWorker(buffer: SharedArrayBuffer): {
  worker: Worker;
  ask: (m: object) => Promise<Record<string, unknown>>;
} {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      buffer,
      databaseUrl: stack.databaseUrl,
      deadlinesModule: new URL('./lease-deadlines.js', import.meta.url).href,
      resourcesModule: new URL('./resources.js', import.meta.url).href,
    },
  });
  const ask = (m: object) =>
    new Promise<Record<string, unknown>>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(m);
    });
  return { worker, ask };
}

const readyOf = (worker: Worker) => new Promise((resolve) => worker.once('message', resolve));
const rows = async () =>
  (await pool.query<{ n: number }>('SELECT n FROM fenced_writes ORDER BY n')).rows.map((r) => r.n);

test('when a shard of a thread passes its deadline, then its next commit rolls back, with no one ending the thread', async () => {
  const buffer = newDeadlineBuffer(8);
  const deadlines = new LeaseDeadlines(buffer);
  deadlines.extend(3, monotonicMs() + 600_000);
  deadlines.extend(4, monotonicMs() + 600_000);
  const { worker, ask } = startWorker(buffer);
  await readyOf(worker);
  try {
    assert.deepEqual(await ask({ n: 1 }), { n: 1, committed: true });
    // A shard of the thread runs out (renewals late): the next commit is refused.
    deadlines.revoke(4);
    assert.deepEqual(await ask({ n: 2 }), { n: 2, committed: false, name: 'FencedError', shard: 4 });
    // The lease renewed after all: commits go on.
    deadlines.extend(4, monotonicMs() + 600_000);
    assert.deepEqual(await ask({ n: 3 }), { n: 3, committed: true });
    // A deadline that passes by time alone, with no write at the moment it passes.
    deadlines.revoke(3);
    deadlines.extend(3, monotonicMs() + 200);
    while (deadlines.expired([3, 4]) === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await ask({ n: 4 }), { n: 4, committed: false, name: 'FencedError', shard: 3 });
    assert.equal(new LeaseDeadlines(newDeadlineBuffer(8)).expired([0]), 0, 'a shard never granted is expired');
    assert.deepEqual(await rows(), [1, 3], 'nothing of a refused commit is stored');
  } finally {
    await worker.terminate();
  }
});

test('when two threads read the monotonic clock one after the other, then they read it in that order', async () => {
  const { worker, ask } = startWorker(newDeadlineBuffer(8));
  await readyOf(worker);
  try {
    for (let i = 0; i < 20; i += 1) {
      const before = monotonicMs();
      const { at } = (await ask({ clock: true })) as { at: number };
      const later = monotonicMs();
      assert.ok(before <= at && at <= later, `main ${before} ≤ worker ${at} ≤ main ${later}`);
    }
  } finally {
    await worker.terminate();
  }
});
