// The supervisor's admin endpoint, route by route, against the real system:
// reading pools and shards, the token rules, metrics, scaling and a rolling
// restart under a stream of bookings (checked in the database), the NATS
// service, and drain last (it leaves the system without actors).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { connect } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import { readSeatLedger } from '../../actors/inventory/public.js';
import { SUPERVISOR_SERVICE, adminSubject, shardOf, type PoolReport } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { eventuallyValue } from '../../ops/testing/eventually.js';
import { bookingStream, emptyStreamResult } from '../../ops/testing/servers.js';

let t: TestSystem;
let admin: (
  method: string,
  path: string,
  opts?: { token?: string | null; body?: unknown },
) => Promise<{ status: number; type: string; body: any }>;

before(async () => {
  t = await startTestSystem();
  const base = t.system.supervisor.adminUrl;
  admin = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? t.adminToken : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: text.startsWith('{') ? JSON.parse(text) : text,
    };
  };
});
after(async () => {
  await t?.stop();
});

const pool = (reply: { body: { pools: PoolReport[] } }, kind: string) => reply.body.pools.find((p) => p.kind === kind)!;
const everyShardServedOnce = (p: PoolReport, shards: number) =>
  assert.deepEqual(
    p.slots.flatMap((s) => s.shards).sort((a, b) => a - b),
    Array.from({ length: shards }, (_, i) => i),
  );

test('when the admin routes are called without an admin token, then they answer 401 or 403 as problem+json', async () => {
  const [user] = await t.registerUsers(1, 'not-admin');
  for (const [method, path] of [
    ['GET', '/pools'],
    ['GET', '/shards'],
    ['POST', '/pools/inventory/restart'],
    ['POST', '/drain'],
  ] as const) {
    const anonymous = await admin(method, path, { token: null });
    assert.equal(anonymous.status, 401, `${method} ${path}`);
    assert.equal(anonymous.body.code, 'UNAUTHENTICATED');
    assert.match(anonymous.type, /application\/problem\+json/);
    const forbidden = await admin(method, path, { token: user.token });
    assert.equal(forbidden.status, 403, `${method} ${path}`);
    assert.equal(forbidden.body.code, 'FORBIDDEN');
  }
});

test('when GET /pools is asked, then every pool shows its threads, load, restarts and the shards it serves', async () => {
  // A thread that does not answer its load report at once shows busy null; on a loaded machine, ask again.
  const reply = await eventuallyValue(
    'every inventory thread reporting its load',
    async () => {
      const r = await admin('GET', '/pools');
      return pool(r, 'inventory').busy === null ? undefined : r;
    },
    60_000,
  );
  assert.equal(reply.status, 200);
  assert.equal(reply.body.state, 'running');
  assert.equal(reply.body.supervisor.pid, process.pid);
  const inventory = pool(reply, 'inventory');
  assert.equal(inventory.threads, t.system.config.inventoryThreads);
  assert.equal(inventory.busy, 0);
  assert.equal(inventory.restarts, 0);
  assert.equal(inventory.shardsOwned?.length, t.system.config.shards, 'a lone supervisor holds every shard');
  everyShardServedOnce(inventory, t.system.config.shards);
  const identity = pool(reply, 'identity');
  assert.equal(identity.shardsOwned, null, 'identity is not sharded');
  assert.equal(identity.threads, t.system.config.identityThreads);
});

test('when the pools run, then each actor thread carries its actor in its OS thread name', async () => {
  const names = readdirSync('/proc/self/task').map((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      return ''; // a thread that ended meanwhile
    }
  });
  // At least one per thread of the pool: a thread an actor thread starts (identity's hashing threads) inherits its name.
  const count = (name: string) => names.filter((n) => n === name).length;
  assert.ok(count('ev-inventory') >= t.system.config.inventoryThreads, names.join(','));
  assert.ok(count('ev-identity') >= t.system.config.identityThreads, names.join(','));
  for (const kind of ['waitroom', 'mailer', 'analytics', 'webhooks'])
    assert.ok(count(`ev-${kind}`) >= 1, `ev-${kind} in ${names.join(',')}`);
});

test('when GET /shards is asked, then each shard names this supervisor, the thread serving it and the lease age', async () => {
  const threads = new Set(
    t.system.supervisor.pools.inventory
      .status()
      .slots.map((s) => s.threadId)
      .filter((id) => id !== null),
  );
  // The placement reaches a lease with its next renewal: wait for that state, not for a time.
  const reply = await eventuallyValue(
    'every lease naming a live inventory thread',
    async () => {
      const r = await admin('GET', '/shards');
      return r.body.shards?.every(
        (s: { owner: { pools: { inventory?: { thread: number } } } | null }) =>
          s.owner !== null && threads.has(s.owner.pools.inventory?.thread ?? -1),
      )
        ? r
        : undefined;
    },
    60_000,
  );
  assert.equal(reply.status, 200);
  assert.equal(reply.body.shards.length, t.system.config.shards);
  assert.equal(reply.body.members.length, 1);
  for (const { shard, owner } of reply.body.shards) {
    assert.equal(owner.id, t.system.supervisor.leases.me.id, `shard ${shard}`);
    assert.equal(owner.pid, process.pid);
    assert.ok(threads.has(owner.pools.inventory.thread), `shard ${shard} names a live inventory thread`);
    assert.ok(owner.heldForMs >= owner.renewedAgoMs && owner.renewedAgoMs >= 0);
  }
});

test('when /metrics is scraped, then pool threads, busy and restarts are there per pool, without a token', async () => {
  const reply = await admin('GET', '/metrics', { token: null });
  assert.equal(reply.status, 200);
  assert.match(
    reply.body,
    new RegExp(`evently_pool_threads\\{pool="inventory"\\} ${t.system.config.inventoryThreads}`),
  );
  assert.match(reply.body, /evently_actor_restarts_total\{pool="identity"\} 0/);
  assert.match(reply.body, new RegExp(`evently_shards_owned\\{pool="inventory"\\} ${t.system.config.shards}`));
  assert.match(reply.body, /evently_pool_busy\{pool="inventory"\} 0/);
  assert.match(reply.body, new RegExp(`evently_shards_total ${t.system.config.shards}`));
});

test('when a pool that does not exist or a bad thread count is asked for, then the problem says so', async () => {
  const missing = await admin('POST', '/pools/nope/restart');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'NOT_FOUND');
  for (const body of [{ threads: 0 }, { threads: 65 }, { threads: '2' }, {}]) {
    const bad = await admin('POST', '/pools/inventory/scale', { body });
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
  }
});

test('when the inventory pool is scaled up and down, then the shards are re-planned over the threads and every event is still served', async () => {
  const events = await Promise.all(Array.from({ length: 6 }, () => t.createEvent()));
  for (const threads of [3, 1, 2]) {
    const reply = await admin('POST', '/pools/inventory/scale', { body: { threads } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.threads, threads);
    assert.equal(reply.body.slots.length, threads);
    everyShardServedOnce(reply.body, t.system.config.shards);
    for (const e of events)
      assert.equal(
        (await t.api('GET', `/v1/events/${e.id}`)).status,
        200,
        `shard ${shardOf(e.id, t.system.config.shards)} with ${threads} threads`,
      );
  }
  assert.equal((await t.api('GET', '/readyz')).status, 200);
});

test('when the inventory pool is restarted during a stream of bookings, then every thread is new and no booking is lost or doubled', async (ctx) => {
  const event = await t.createEvent({ capacity: 100_000, maxTicketsPerUser: 1_000 });
  const users = await t.registerUsers(60, 'rolling');
  const before = new Set(t.system.supervisor.pools.inventory.status().slots.map((s) => s.threadId));
  // The stream lasts until the restart is over, however long a busy machine takes; its users
  // stop then, so the bookings before, during and after the restart are all checked below.
  let restarted!: (value: unknown) => void;
  const live = emptyStreamResult();
  const stream = bookingStream({
    url: t.url,
    eventId: event.id,
    users,
    perUser: 1_000,
    pauseMs: 0,
    label: 'rolling',
    until: new Promise((resolve) => {
      restarted = resolve;
    }),
    result: live,
  });
  await eventuallyValue('bookings flowing', () => (live.created.length >= users.length ? true : undefined), 60_000);
  const createdBefore = live.created.length;
  const restart = await admin('POST', '/pools/inventory/restart');
  const createdDuring = live.created.length - createdBefore;
  restarted(null);
  const result = await stream;
  ctx.diagnostic(
    `${result.ordered} orders, ${createdDuring} booked during the restart, ${result.failed} 5xx or unanswered attempts`,
  );

  assert.equal(restart.status, 200);
  assert.equal(restart.body.restarts, 0, 'a rolling restart is not a crash');
  for (const slot of restart.body.slots) assert.ok(!before.has(slot.thread), `slot ${slot.index} runs on a new thread`);
  everyShardServedOnce(restart.body, t.system.config.shards);
  assert.ok(createdDuring > 0, 'bookings went on during the restart');
  assert.equal(result.unanswered, 0);
  assert.deepEqual([...result.refused], [], 'nothing refused');
  assert.equal(result.created.length, result.ordered, 'every order booked');
  assert.equal(result.failed, 0, 'no request failed: the old threads drained while the new ones served');
  const { rows } = await t.db.query(
    `SELECT count(*)::int AS n FROM bookings WHERE event_id = $1 AND status = 'confirmed' AND id = ANY($2::uuid[])`,
    [event.id, result.created],
  );
  assert.equal(rows[0].n, result.created.length, 'every 201 is stored');
  const ledger = await readSeatLedger(t.db, event.id);
  assert.equal(ledger.confirmed, result.created.length, 'and nothing else');
  assert.ok(ledger.ok, JSON.stringify(ledger));
});

test('when the NATS service is discovered, then $SRV.PING finds the supervisor and its endpoint answers like GET /pools', async () => {
  const nc = await connect(natsOptions(t.system.config, 'supervisor'));
  try {
    const ping = await nc.request(`$SRV.PING.${SUPERVISOR_SERVICE}`, '', { timeout: 10_000 });
    const identity = ping.json<{ name: string; metadata: Record<string, string> }>();
    assert.equal(identity.name, SUPERVISOR_SERVICE);
    assert.equal(identity.metadata.supervisor, t.system.supervisor.leases.me.id);
    const stats = (await nc.request(`$SRV.STATS.${SUPERVISOR_SERVICE}`, '', { timeout: 10_000 })).json<{
      endpoints: { name: string }[];
    }>();
    assert.deepEqual(stats.endpoints.map((e) => e.name).sort(), ['pools', 'shards']);
    const pools = (
      await nc.request(adminSubject(identity.metadata.supervisor, 'pools'), '', { timeout: 10_000 })
    ).json<{ pools: PoolReport[] }>();
    assert.equal(pools.pools.find((p) => p.kind === 'inventory')?.shardsOwned?.length, t.system.config.shards);
  } finally {
    await nc.close();
  }
});

test('when the supervisor is drained, then it hands back every lease, its threads finish and stop, and the edge stops being ready', async () => {
  const reply = await admin('POST', '/drain');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.state, 'drained');
  const pools = await admin('GET', '/pools');
  assert.equal(pools.body.state, 'drained');
  for (const p of pools.body.pools) assert.equal(p.threads, 0, p.kind);
  const shards = await admin('GET', '/shards');
  assert.ok(
    shards.body.shards.every((s: { owner: unknown }) => s.owner === null),
    'no lease held',
  );
  assert.deepEqual(shards.body.members, [], 'no longer announced');
  assert.equal((await t.api('GET', '/readyz')).status, 503);
  assert.equal((await admin('POST', '/pools/inventory/restart')).status, 503, 'a drained supervisor changes nothing');
});
