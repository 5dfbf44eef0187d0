// No two writers after a partition: a second supervisor process reaches NATS
// through a proxy the test cuts, as a network partition would (its Postgres
// and Redis stay reachable). It must stop serving each of its shards (its
// lease keeper fences them and its threads end) before this supervisor claims
// them, proven with the times and lease revisions from both sides: the fenced
// supervisor's log and the bucket's own record of the claim. After the heal it
// takes its half back, and this healthy supervisor never fences.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { KvWatchInclude, connect } from 'nats';
import { envOf, SUPERVISOR_SETTINGS, withOverrides } from '../../platform/config.js';
import { natsOptions } from '../../platform/nats-connect.js';
import { SHARD_LEASE_BUCKET, type LeaseValue } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { startCuttableProxy, type CuttableProxy } from '../../ops/testing/cuttable-proxy.js';

const LEASE_TTL_MS = 6000;
/** How long a state may take to arrive on a busy machine before the test calls it missing. */
const PATIENCE_MS = 180_000;
const SUPERVISOR_MAIN = new URL('../main.js', import.meta.url).pathname;

interface LogLine {
  time: number;
  msg: string;
  shard?: number;
  revision?: number;
  thread?: number;
  shards?: number[];
  held?: number[];
}

let t: TestSystem;
let proxy: CuttableProxy;
let other: ChildProcess | undefined;
const lines: LogLine[] = [];

before(async () => {
  t = await startTestSystem({ leaseTtlMs: LEASE_TTL_MS, lockTtlMs: 3000, brokerTimeoutMs: 3000 });
  proxy = await startCuttableProxy(Number(new URL(t.system.config.natsUrl).port));
});
after(async () => {
  if (other?.exitCode === null) other.kill('SIGKILL');
  await proxy.close();
  await t.stop();
});

/** A second supervisor whose every NATS connection (keeper, pools, admin) goes through the proxy. */
function startOtherSupervisor(): ChildProcess {
  const c = withOverrides(t.system.config, {
    natsUrl: `nats://127.0.0.1:${proxy.port}`,
    leaseTtlMs: LEASE_TTL_MS,
    lockTtlMs: 3000,
    adminPort: 0,
    kdfCost: 10,
    logLevel: 'info',
    identityNice: 0,
    backgroundNice: 0,
    waitroomNice: 0,
    // Fewer threads to boot on a loaded machine; their work waits in the stream.
    disabledPools: ['mailer', 'analytics', 'pricing'],
  });
  const child = spawn(process.execPath, [SUPERVISOR_MAIN], {
    env: {
      PATH: process.env.PATH,
      ...envOf(c, SUPERVISOR_SETTINGS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const all = (partial + chunk.toString()).split('\n');
    partial = all.pop() ?? '';
    for (const line of all) {
      try {
        const j = JSON.parse(line) as Omit<LogLine, 'time'> & { time: string };
        lines.push({ ...j, time: new Date(j.time).getTime() });
      } catch {
        // Not a log line.
      }
    }
  });
  return child;
}

/** Waits for a state; a check that never answers counts against the same patience (it once hung on kv.keys()). */
async function waitFor(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const began = Date.now();
  const missing = () => new Error(`${what} not within ${PATIENCE_MS} ms`);
  for (;;) {
    const left = PATIENCE_MS - (Date.now() - began);
    const timer = new AbortController();
    const answer = await Promise.race([
      Promise.resolve(check()),
      sleep(Math.max(0, left), 'no answer' as const, { signal: timer.signal }).catch(() => 'no answer' as const),
    ]);
    timer.abort();
    if (answer === true) return;
    if (other?.exitCode !== null) throw new Error(`the other supervisor exited (${other?.exitCode}) before ${what}`);
    if (answer === 'no answer' || Date.now() - began > PATIENCE_MS) throw missing();
    await sleep(100);
  }
}

const me = () => t.system.supervisor.leases.me.id;
const shards = () => t.system.config.shards;
const mine = async () => {
  const { shards: all } = await t.system.supervisor.control.shards();
  return all.filter((s) => s.owner?.id === me()).map((s) => s.shard);
};
/** The shards the other supervisor last said it serves. */
const theirsServed = () => [...lines].reverse().find((l) => l.msg === 'shard leases changed')?.held ?? [];

/** Its threads booted: the placement in the lease values names a thread of every sharded pool. */
async function threadsServe(theirs: number[]): Promise<boolean> {
  const { shards: all } = await t.system.supervisor.control.shards();
  return all
    .filter((s) => theirs.includes(s.shard))
    .every((s) => {
      const pools = Object.values(s.owner?.pools ?? {});
      return s.owner?.id !== me() && pools.length > 0 && pools.every((p) => p.thread !== null);
    });
}

test('when a supervisor is cut off from NATS, then it stops serving each shard before the other claims it, and takes its half back after the heal', async (ctx) => {
  other = startOtherSupervisor();
  await waitFor('a balanced split', async () => (await mine()).length === shards() / 2);
  await waitFor('the other supervisor serving its half', () => theirsServed().length === shards() / 2);
  const theirs = theirsServed();
  await waitFor('its threads serving its shards', () => threadsServe(theirs));

  // The bucket's record of each claim: the server's store time and the new revision.
  const nc = await connect(natsOptions(t.system.config, 'supervisor'));
  const claims = new Map<number, { at: number; revision: number }>();
  try {
    const kv = await nc.jetstream().views.kv(SHARD_LEASE_BUCKET, { bindOnly: true });
    const watch = await kv.watch({ key: 'shard.>', include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const e of watch) {
        const shard = Number(e.key.split('.')[1]);
        if (e.operation !== 'PUT' || claims.has(shard) || !theirs.includes(shard)) continue;
        if (e.json<LeaseValue>().owner === me()) claims.set(shard, { at: e.created.getTime(), revision: e.revision });
      }
    })();
    const cutAt = Date.now();
    proxy.cut();
    await waitFor('every shard claimed here', async () => (await mine()).length === shards());
    await waitFor('the claims seen in the bucket', () => theirs.every((s) => claims.has(s)));
    watch.stop();

    const since = lines.filter((l) => l.time >= cutAt);
    const stopped = since.filter((l) => l.msg === 'fenced: thread stopped at once');
    const ended = new Map(since.filter((l) => l.msg === 'fenced: thread ended').map((l) => [l.thread, l.time]));
    for (const shard of theirs) {
      const fence = since.find((l) => l.msg.startsWith('shard lease not renewed in time') && l.shard === shard);
      const claim = claims.get(shard);
      assert.ok(fence, `shard ${shard}: the cut-off supervisor logged a fence`);
      assert.ok(claim, `shard ${shard}: claimed here`);
      ctx.diagnostic(
        `shard ${shard}: fenced ${fence.time - cutAt} ms after the cut (revision ${fence.revision}), ` +
          `claimed here ${claim.at - cutAt} ms after it (revision ${claim.revision})`,
      );
      assert.ok(fence.time < claim.at, `shard ${shard}: fenced before it was claimed`);
      assert.ok(claim.revision > (fence.revision ?? Infinity), `shard ${shard}: the claim is a later revision`);
      for (const s of stopped.filter((l) => l.shards?.includes(shard))) {
        const end = ended.get(s.thread);
        assert.ok(end !== undefined && end < claim.at, `shard ${shard}: thread ${s.thread} ended before the claim`);
      }
    }
    assert.ok(stopped.length > 0, 'the cut-off supervisor stopped the threads serving its shards');
  } finally {
    proxy.heal();
    await nc.close();
  }

  await waitFor('the split again after the heal', async () => (await mine()).length === shards() / 2);
  await waitFor('the other supervisor serving its half again', () => theirsServed().length === shards() / 2);
  await waitFor('its threads serving its half again', () => threadsServe(theirsServed()));
  assert.equal(t.system.supervisor.leases.fences, 0, 'the healthy supervisor never fenced a shard');
  const exited = once(other, 'exit');
  other.kill('SIGTERM');
  // Its own stop timeout (EVENTLY_STOP_TIMEOUT_MS, then exit 1) bounds this; the race only names a hang.
  const patience = new AbortController();
  const stopped = await Promise.race([
    exited,
    sleep(PATIENCE_MS, 'still running' as const, { signal: patience.signal }).catch(() => 'still running' as const),
  ]);
  patience.abort();
  assert.deepEqual(stopped, [0, null], 'the healed supervisor stopped cleanly');
});
