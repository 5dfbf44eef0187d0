// Several supervisors on one NATS: a second supervisor process takes half the
// shards; one stopped gracefully hands its shards back at once; one killed
// mid-sale loses them when its leases age out, and the sale on its shards goes
// on with no oversell (checked in the seat ledger). Leases are short here.
// Every wait is for a state with a generous bound: a loaded two-core machine
// boots threads slowly, and a tight wall-clock deadline would fail it at random.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { KvWatchInclude, connect } from 'nats';
import { envOf, SUPERVISOR_SETTINGS, withOverrides } from '../../platform/config.js';
import { natsOptions } from '../../platform/nats-connect.js';
import { readSeatLedger } from '../../actors/inventory/public.js';
import { SHARD_LEASE_BUCKET, shardOf } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { bookingStream } from '../../ops/testing/servers.js';

// Long enough that a starved event loop on a loaded two-core machine still renews in time (it renews every quarter).
const LEASE_TTL_MS = 6000;
/** How long a state may take to arrive on a busy machine before the test calls it missing. */
const PATIENCE_MS = 60_000;
const SUPERVISOR_MAIN = new URL('../main.js', import.meta.url).pathname;

let t: TestSystem;
let other: ChildProcess | undefined;
let otherOutput = '';

before(async () => {
  t = await startTestSystem({ leaseTtlMs: LEASE_TTL_MS, lockTtlMs: 3000, brokerTimeoutMs: 3000 });
});
after(async () => {
  if (other?.exitCode === null) other.kill('SIGKILL');
  await t?.stop();
});

/** A second supervisor, as `node dist/supervisor/main.js` runs on another host. */
function startOtherSupervisor(): ChildProcess {
  const c = withOverrides(t.system.config, {
    leaseTtlMs: LEASE_TTL_MS,
    lockTtlMs: 3000,
    adminPort: 0,
    kdfCost: 10,
    logLevel: 'warn',
    identityNice: 0,
    backgroundNice: 0,
    waitroomNice: 0,
  });
  const child = spawn(process.execPath, [SUPERVISOR_MAIN], {
    env: {
      PATH: process.env.PATH,
      ...envOf(c, SUPERVISOR_SETTINGS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  otherOutput = '';
  const keep = (chunk: Buffer) => {
    otherOutput = (otherOutput + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return child;
}

const holders = async (): Promise<Map<string, number[]>> => {
  // Bounded: a lease read stuck after a SIGKILL must fail this test, not hang the suite.
  let timer: NodeJS.Timeout | undefined;
  const { shards } = await Promise.race([
    t.system.supervisor.control.shards(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the shard table was not read within 30 s')), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const by = new Map<string, number[]>();
  for (const s of shards) by.set(s.owner?.id ?? 'nobody', [...(by.get(s.owner?.id ?? 'nobody') ?? []), s.shard]);
  return by;
};

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const began = Date.now();
  while (!(await check())) {
    if (Date.now() - began > timeoutMs)
      throw new Error(`${what} not within ${timeoutMs} ms; other supervisor said:\n${otherOutput}`);
    await sleep(50);
  }
  return Date.now() - began;
}

const me = () => t.system.supervisor.leases.me.id;
const half = () => t.system.config.shards / 2;
const inventoryShards = () => t.system.supervisor.pools.inventory.placement().size;
/** Every sharded pool of this supervisor serves `count` shards (threads booted after a re-plan). */
const allPoolsServe = (count: number) =>
  Object.values(t.system.supervisor.pools)
    .filter((p) => p.sharded)
    .every((p) => p.placement().size === count && p.status().slots.every((s) => s.threadId !== null));

test('when a second supervisor process joins, then each holds half the shards and serves exactly those', async () => {
  other = startOtherSupervisor();
  await waitFor(
    'a balanced split',
    async () => {
      const by = await holders();
      return by.size === 2 && [...by.values()].every((s) => s.length === half()) && !by.has('nobody');
    },
    PATIENCE_MS,
  );
  await waitFor('the inventory pool re-planned', () => inventoryShards() === half(), PATIENCE_MS);
  const mine = (await holders()).get(me())!;
  assert.deepEqual(
    [...t.system.supervisor.pools.inventory.placement().keys()].sort((a, b) => a - b),
    mine,
  );
  await waitFor(
    'between them every shard answers /readyz',
    async () => (await t.api('GET', '/readyz')).status === 200,
    PATIENCE_MS,
  );
});

test('when the second supervisor stops gracefully, then it hands its shards back at once, well inside the lease time', async (ctx) => {
  const theirs = [...(await holders())].find(([id]) => id !== me() && id !== 'nobody')![1];
  // A hand-back deletes the lease key (a DEL in the bucket); a lease left to expire just vanishes with
  // no record. So watching for the deletes tells the two apart however slowly the machine runs.
  const nc = await connect(natsOptions(t.system.config, 'supervisor'));
  const released = new Set<number>();
  try {
    const kv = await nc.jetstream().views.kv(SHARD_LEASE_BUCKET, { bindOnly: true });
    const watch = await kv.watch({ key: 'shard.>', include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const e of watch) if (e.operation === 'DEL') released.add(Number(e.key.split('.')[1]));
    })();
    const exited = once(other!, 'exit');
    const signalledAt = Date.now();
    other!.kill('SIGTERM');
    await waitFor(
      'all shards back',
      async () => (await holders()).get(me())?.length === t.system.config.shards,
      PATIENCE_MS,
    );
    const took = Date.now() - signalledAt;
    assert.deepEqual(await exited, [0, null], `the supervisor process stopped cleanly:\n${otherOutput}`);
    watch.stop();
    ctx.diagnostic(`shards back ${took} ms after SIGTERM (lease ${LEASE_TTL_MS} ms)`);
    assert.deepEqual(
      [...released].filter((s) => theirs.includes(s)).sort((a, b) => a - b),
      theirs,
      'every lease of theirs handed back, not left to expire',
    );
  } finally {
    await nc.close();
  }
  await waitFor('every pool re-planned', () => allPoolsServe(t.system.config.shards), PATIENCE_MS);
});

test(
  'when a supervisor is killed mid-sale, then the other takes its shards within the lease time and nothing is oversold',
  { timeout: 240_000 },
  async (ctx) => {
    // Registered first, once this supervisor's threads are booted: 200 sign-ups against a short broker
    // timeout while threads boot time out on a busy machine.
    await waitFor('every pool re-planned', () => allPoolsServe(t.system.config.shards), PATIENCE_MS);
    const users = await t.registerUsers(200, 'handover');
    other = startOtherSupervisor();
    await waitFor('a balanced split', async () => (await holders()).get(me())?.length === half(), PATIENCE_MS);
    let theirs = new Set<number>();
    await waitFor(
      'the other supervisor holding its half',
      async () => {
        theirs = new Set([...(await holders())].filter(([id]) => id !== me()).flatMap(([, s]) => s));
        return theirs.size > 0;
      },
      PATIENCE_MS,
    );
    let event;
    // Event ids are random: a shard of theirs comes up within a few tries (bounded, so a bug cannot hang the suite).
    for (let tries = 0; ; tries++) {
      assert.ok(tries < 500, 'no event landed on a shard the other supervisor holds');
      event = await t.createEvent({ capacity: 300, maxTicketsPerUser: 2 });
      if (theirs.has(shardOf(event.id, t.system.config.shards))) break;
    }

    const sale = bookingStream({ url: t.url, eventId: event.id, users, perUser: 2, pauseMs: 300, label: 'handover' });
    await sleep(150);
    other.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      'every shard taken over',
      async () => (await holders()).get(me())?.length === t.system.config.shards,
      PATIENCE_MS,
    );
    const takeover = Date.now() - killedAt;
    const result = await sale;
    ctx.diagnostic(
      `taken over ${takeover} ms after the kill (lease ${LEASE_TTL_MS} ms); ${result.retried} retried attempts`,
    );

    assert.ok(result.retried > 0, 'the kill was felt by clients in flight');
    assert.equal(result.unanswered, 0, 'every order got a final answer');
    assert.deepEqual(
      [...result.refused.keys()].filter((k) => k !== '409 SOLD_OUT'),
      [],
      'refusals are only SOLD_OUT',
    );
    assert.equal(result.created.length, 300, 'sold out exactly');
    const ledger = await readSeatLedger(t.db, event.id);
    assert.ok(ledger.ok, `seat ledger holds: ${JSON.stringify(ledger)}`);
    assert.equal(ledger.confirmed, result.created.length, 'every 201 stored, nothing beyond them');
    assert.ok(ledger.maxPerUser <= 2);
    // This supervisor stayed connected throughout: whatever the load, its lease keeper never fenced.
    assert.equal(t.system.supervisor.leases.fences, 0, 'the healthy supervisor never fenced a shard');
  },
);
