// Several supervisors on one NATS: a second supervisor process takes half the
// shards; one stopped gracefully hands its shards back at once; one killed
// mid-sale loses them when its leases age out, and the sale on its shards goes
// on with no oversell (checked in the seat ledger). Leases are short here.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { readSeatLedger } from '../../actors/inventory/ledger.js';
import { shardOf, type ShardsReply } from '../../actors/protocol/index.js';
import { startTestSystem, type TestSystem } from '../../edge/test/harness.js';
import { bookingStream } from '../../ops/load/booking-stream.js';

const LEASE_TTL_MS = 2000;
const SUPERVISOR_MAIN = new URL('../main.js', import.meta.url).pathname;

let t: TestSystem;
let other: ChildProcess | undefined;
let otherOutput = '';

before(async () => { t = await startTestSystem({ leaseTtlMs: LEASE_TTL_MS, lockTtlMs: 2000, brokerTimeoutMs: 1500 }); });
after(async () => {
  if (other?.exitCode === null) other.kill('SIGKILL');
  await t?.stop();
});

/** A second supervisor, as `node dist/supervisor/main.js` runs on another host. */
function startOtherSupervisor(): ChildProcess {
  const c = t.system.config;
  const child = spawn(process.execPath, [SUPERVISOR_MAIN], {
    env: {
      PATH: process.env.PATH, NATS_URL: c.natsUrl, REDIS_URL: c.redisUrl, DATABASE_URL: c.databaseUrl,
      EVENTLY_JWT_SECRET: c.jwtSecret, EVENTLY_TICKET_SECRET: c.ticketSecret, EVENTLY_PUBLIC_URL: c.publicUrl, EVENTLY_IDENTITY_KEY: c.identityKey, EVENTLY_NATS_SUPERVISOR_PASSWORD: c.natsSupervisorPassword,
      EVENTLY_NATS_ACTORS_PASSWORD: c.natsActorsPassword, EVENTLY_NATS_EDGE_PASSWORD: c.natsEdgePassword, EVENTLY_SHARDS: String(c.shards), EVENTLY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      EVENTLY_LOCK_TTL_MS: '2000', EVENTLY_ADMIN_PORT: '0', EVENTLY_KDF_COST: '10', EVENTLY_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  otherOutput = '';
  const keep = (chunk: Buffer) => { otherOutput = (otherOutput + chunk.toString()).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

const holders = async (): Promise<Map<string, number[]>> => {
  // Bounded: a lease read stuck after a SIGKILL must fail this test, not hang the suite.
  const { shards } = (await Promise.race([
    t.system.supervisor.control.shards(),
    sleep(10_000).then(() => { throw new Error('the shard table was not read within 10 s'); }),
  ])) as ShardsReply;
  const by = new Map<string, number[]>();
  for (const s of shards) by.set(s.owner?.id ?? 'nobody', [...(by.get(s.owner?.id ?? 'nobody') ?? []), s.shard]);
  return by;
};

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const began = Date.now();
  while (!(await check())) {
    if (Date.now() - began > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms; other supervisor said:\n${otherOutput}`);
    await sleep(50);
  }
  return Date.now() - began;
}

const me = () => t.system.supervisor.leases.me.id;
const half = () => t.system.config.shards / 2;
const inventoryShards = () => t.system.supervisor.pools.inventory.placement().size;

test('when a second supervisor process joins, then each holds half the shards and serves exactly those', async () => {
  other = startOtherSupervisor();
  await waitFor('a balanced split', async () => {
    const by = await holders();
    return by.size === 2 && [...by.values()].every((s) => s.length === half()) && !by.has('nobody');
  }, 30_000);
  await waitFor('the inventory pool re-planned', () => inventoryShards() === half(), 5_000);
  const mine = (await holders()).get(me())!;
  assert.deepEqual([...t.system.supervisor.pools.inventory.placement().keys()].sort((a, b) => a - b), mine);
  await waitFor('between them every shard answers /readyz', async () => (await t.api('GET', '/readyz')).status === 200, 10_000);
});

test('when the second supervisor stops gracefully, then it hands its shards back at once, well inside the lease time', async () => {
  const exited = once(other!, 'exit');
  other!.kill('SIGTERM');
  const took = await waitFor('all shards back', async () => (await holders()).get(me())?.length === t.system.config.shards, LEASE_TTL_MS * 3);
  assert.deepEqual(await exited, [0, null], `the supervisor process stopped cleanly:\n${otherOutput}`);
  assert.ok(took < LEASE_TTL_MS, `handed back in ${took} ms, not left to expire`);
  await waitFor('the inventory pool re-planned', () => inventoryShards() === t.system.config.shards, 5_000);
});

test('when a supervisor is killed mid-sale, then the other takes its shards within the lease time and nothing is oversold', { timeout: 240_000 }, async (ctx) => {
  // Registered first: 200 sign-ups against a 1.5 s broker timeout while a second supervisor boots its threads time out on a busy machine.
  const users = await t.registerUsers(200, 'handover');
  other = startOtherSupervisor();
  await waitFor('a balanced split', async () => (await holders()).get(me())?.length === half(), 30_000);
  let theirs = new Set<number>();
  await waitFor('the other supervisor holding its half', async () => {
    theirs = new Set([...(await holders())].filter(([id]) => id !== me()).flatMap(([, s]) => s));
    return theirs.size > 0;
  }, 30_000);
  let event;
  // Event ids are random: a shard of theirs comes up within a few tries (bounded, so a bug cannot hang the suite).
  for (let tries = 0; ; tries++) {
    assert.ok(tries < 500, 'no event landed on a shard the other supervisor holds');
    event = await t.createEvent({ capacity: 300, maxTicketsPerUser: 2 });
    if (theirs.has(shardOf(event.id, t.system.config.shards))) break;
  }

  const sale = bookingStream({ url: t.url, eventId: event.id, users, perUser: 2, pauseMs: 300, label: 'handover' });
  await sleep(150);
  other!.kill('SIGKILL');
  const killedAt = Date.now();
  await waitFor('every shard taken over', async () => (await holders()).get(me())?.length === t.system.config.shards, LEASE_TTL_MS * 5);
  const takeover = Date.now() - killedAt;
  const result = await sale;
  ctx.diagnostic(`taken over ${takeover} ms after the kill (lease ${LEASE_TTL_MS} ms); ${result.retried} retried attempts`);

  assert.ok(takeover <= LEASE_TTL_MS * 2 + 1000, `taken over in ${takeover} ms (lease ${LEASE_TTL_MS} ms)`);
  assert.ok(result.retried > 0, 'the kill was felt by clients in flight');
  assert.equal(result.unanswered, 0, 'every order got a final answer');
  assert.deepEqual([...result.refused.keys()].filter((k) => k !== '409 SOLD_OUT'), [], 'refusals are only SOLD_OUT');
  assert.equal(result.created.length, 300, 'sold out exactly');
  const ledger = await readSeatLedger(t.db, event.id);
  assert.ok(ledger.ok, `seat ledger holds: ${JSON.stringify(ledger)}`);
  assert.equal(ledger.confirmed, result.created.length, 'every 201 stored, nothing beyond them');
  assert.ok(ledger.maxPerUser <= 2);
});
