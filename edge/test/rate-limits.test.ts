// Every rate-limit tier trips at its limit, answers 429 problem+json with
// retry-after and x-ratelimit-*, and recovers after its window; two edges
// share the counts through Redis; X-Forwarded-For is believed only from a
// trusted proxy. Small limits and a short window come in as config overrides.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { createLogger } from '../../platform/logger.js';
import { withOverrides } from '../../platform/config.js';
import { startEdge, type Edge } from '../server.js';
import { startTestSystem, type Reply, type TestSystem } from '../../ops/testing/harness.js';

// Long enough that a burst lands in one window even on a loaded machine, where 65 requests can take over 1 s.
const WINDOW_MS = 3000;
const limits = {
  rateLimits: true,
  rateWindowMs: WINDOW_MS,
  trustedProxies: ['127.0.0.1'],
  rateGlobalMax: 60,
  rateIpMax: 12,
  rateUserMax: 8,
  rateBookingMax: 3,
  rateAuthMax: 3,
  rateQueueMax: 3,
  rateQueueIpMax: 5,
  loginFailuresMax: 2,
  loginAccountFailuresMax: 3,
  loginSlowDownMs: 400,
  loginFailureWindowMs: WINDOW_MS,
};

let t: TestSystem;
let edge2: Edge;
let ipNo = 0;
/** A client address of its own, as HAProxy would report it. */
const freshIp = () => ({ 'x-forwarded-for': `198.51.100.${++ipNo}` });
const nextWindow = () => sleep(WINDOW_MS + 200);

before(async () => {
  t = await startTestSystem(limits);
  // A second edge on the same Redis that trusts no proxy.
  edge2 = await startEdge(withOverrides(t.system.config, { httpPort: 0, trustedProxies: [] }), createLogger('error'));
  await nextWindow();
});
after(async () => {
  await edge2?.stop();
  await t?.stop();
});

async function register(name: string): Promise<{ token: string; email: string }> {
  const email = `${name}-${Date.now()}@example.test`;
  const r = await t.api('POST', '/v1/auth/register', {
    body: { email, password: 'correct horse battery', name },
    headers: freshIp(),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { token: r.body.token, email };
}

function assertLimited(r: Reply, tier: string): void {
  assert.equal(r.status, 429, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, 'RATE_LIMITED');
  assert.match(r.body.detail, new RegExp(tier));
  assert.ok(Number(r.headers.get('retry-after')) >= 1, 'retry-after in seconds');
  assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
  assert.ok(Number(r.headers.get('x-ratelimit-limit')) > 0);
}

const statuses = (replies: Reply[]) => replies.map((r) => r.status).sort();
const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

test('when one client IP goes over its limit, then it gets 429 while another IP does not, and it recovers after the window', async () => {
  const a = freshIp();
  const first = await t.api('GET', '/v1/events?limit=1', { headers: a });
  assert.equal(first.headers.get('x-ratelimit-limit'), String(limits.rateIpMax));
  assert.equal(first.headers.get('x-ratelimit-remaining'), String(limits.rateIpMax - 1));
  const burst = await times(limits.rateIpMax + 2, () => t.api('GET', '/v1/events?limit=1', { headers: a }));
  assert.equal(burst.filter((r) => r.status === 200).length, limits.rateIpMax - 1);
  assertLimited(
    burst.find((r) => r.status === 429)!,
    'ip',
  );
  assert.equal(
    (await t.api('GET', '/v1/events?limit=1', { headers: freshIp() })).status,
    200,
    'another IP is not limited',
  );
  assert.equal((await t.api('GET', '/healthz', { headers: a })).status, 200, 'health checks are exempt');
  await nextWindow();
  assert.equal((await t.api('GET', '/v1/events?limit=1', { headers: a })).status, 200, 'recovered');
});

test('when one user goes over the user limit from many IPs, then that user gets 429 and another user does not, until the window passes', async () => {
  const [ann, bob] = [await register('ann'), await register('bob')];
  const burst = await times(limits.rateUserMax + 2, () =>
    t.api('GET', '/v1/bookings', { token: ann.token, headers: freshIp() }),
  );
  assert.deepEqual(statuses(burst), [...Array(limits.rateUserMax).fill(200), 429, 429]);
  assertLimited(
    burst.find((r) => r.status === 429)!,
    'user',
  );
  assert.equal((await t.api('GET', '/v1/bookings', { token: bob.token, headers: freshIp() })).status, 200);
  await nextWindow();
  assert.equal((await t.api('GET', '/v1/bookings', { token: ann.token, headers: freshIp() })).status, 200, 'recovered');
});

test('when a user books more often than the booking limit, then the booking route says 429 while other routes still answer', async () => {
  const event = await t.createEvent({ capacity: 100 });
  await nextWindow();
  const { token } = await register('booker');
  const book = () =>
    t.api('POST', `/v1/events/${event.id}/bookings`, { token, body: { quantity: 1 }, headers: freshIp() });
  const burst = await times(limits.rateBookingMax + 1, book);
  assert.deepEqual(statuses(burst), [...Array(limits.rateBookingMax).fill(201), 429]);
  assertLimited(
    burst.find((r) => r.status === 429)!,
    'booking',
  );
  assert.equal(
    (await t.api('GET', '/v1/bookings', { token, headers: freshIp() })).status,
    200,
    'only booking is held back',
  );
  await nextWindow();
  assert.equal((await book()).status, 201, 'recovered');
});

test('when people join and poll a waiting room more often than the queue limits, then 429 per user and per IP while other routes still answer', async () => {
  const event = await t.createEvent();
  const room = await t.api('PUT', `/v1/events/${event.id}/waiting-room`, {
    token: t.adminToken,
    body: { opensAt: new Date().toISOString() },
    headers: freshIp(),
  });
  assert.equal(room.status, 200);
  const { token } = await register('queuer');
  assert.equal((await t.api('POST', `/v1/events/${event.id}/waiting-room`, { token, headers: freshIp() })).status, 201);
  const polls = await times(limits.rateQueueMax + 1, () =>
    t.api('GET', `/v1/events/${event.id}/waiting-room/me`, { token, headers: freshIp() }),
  );
  assertLimited(
    polls.find((r) => r.status === 429)!,
    'queue-user',
  );
  assert.equal(
    (await t.api('GET', '/v1/bookings', { token, headers: freshIp() })).status,
    200,
    'only the queue routes are held back',
  );
  await nextWindow();
  const crowd: { token: string; email: string }[] = [];
  for (let i = 0; i <= limits.rateQueueIpMax; i++) crowd.push(await register(`queue-ip-${i}`));
  await nextWindow();
  const oneIp = freshIp();
  const joins = await times(crowd.length, (i) =>
    t.api('POST', `/v1/events/${event.id}/waiting-room`, { token: crowd[i]?.token, headers: oneIp }),
  );
  assertLimited(
    joins.find((r) => r.status === 429)!,
    'queue-ip',
  );
  await nextWindow();
});

test('when one IP calls register and login more than the auth limit, then 429, and it recovers', async () => {
  await nextWindow();
  const ip = freshIp();
  const burst = await times(limits.rateAuthMax + 1, (i) =>
    t.api('POST', '/v1/auth/register', {
      body: { email: `auth-${i}-${Date.now()}@example.test`, password: 'long enough pw', name: 'x' },
      headers: ip,
    }),
  );
  assert.deepEqual(statuses(burst), [...Array(limits.rateAuthMax).fill(201), 429]);
  assertLimited(
    burst.find((r) => r.status === 429)!,
    'auth',
  );
  await nextWindow();
  assert.equal(
    (await t.api('POST', '/v1/auth/login', { body: { email: 'nobody@example.test', password: 'x' }, headers: ip }))
      .status,
    401,
    'recovered',
  );
});

test("when one IP fails an account's login too often, then that IP waits out the window, and the owner signs in from another IP at once", async () => {
  const { email } = await register('guessed');
  const attacker = freshIp();
  for (let i = 0; i < limits.loginFailuresMax; i++) {
    assert.equal(
      (await t.api('POST', '/v1/auth/login', { body: { email, password: `guess ${i}` }, headers: attacker })).status,
      401,
    );
  }
  const right = { email: email.toUpperCase(), password: 'correct horse battery' };
  const locked = await t.api('POST', '/v1/auth/login', { body: right, headers: attacker });
  assert.equal(locked.status, 429, 'the guessing address is locked, even with the right password');
  assert.equal(locked.body.code, 'RATE_LIMITED');
  assert.ok(Number(locked.headers.get('retry-after')) >= 1);
  assert.equal(
    (await t.api('POST', '/v1/auth/login', { body: right, headers: freshIp() })).status,
    200,
    'the owner, elsewhere, is not locked out',
  );
  await nextWindow();
  assert.equal((await t.api('POST', '/v1/auth/login', { body: right, headers: attacker })).status, 200, 'recovered');
});

test("when an account's logins fail from many IPs, then every attempt at it is slowed, and the owner still signs in", async () => {
  await nextWindow();
  const { email } = await register('spread');
  // At once, so they all fall in one (short) failure window.
  const guesses = await Promise.all(
    Array.from({ length: limits.loginAccountFailuresMax }, (_, i) =>
      t.api('POST', '/v1/auth/login', { body: { email, password: `guess ${i}` }, headers: freshIp() }),
    ),
  );
  assert.deepEqual(
    guesses.map((r) => r.status),
    Array(limits.loginAccountFailuresMax).fill(401),
  );
  const started = performance.now();
  const owner = await t.api('POST', '/v1/auth/login', {
    body: { email, password: 'correct horse battery' },
    headers: freshIp(),
  });
  assert.equal(owner.status, 200, 'slowed, never refused');
  assert.ok(performance.now() - started >= limits.loginSlowDownMs, 'held back by the slow-down');
});

test('when every client together goes over the global limit, then everyone gets 429 until the window passes', async () => {
  await nextWindow();
  const burst = await times(limits.rateGlobalMax + 5, (i) =>
    t.api('GET', '/v1/events?limit=1', { headers: { 'x-forwarded-for': `203.0.113.${i % 10}` } }),
  );
  assert.equal(burst.filter((r) => r.status === 200).length, limits.rateGlobalMax);
  assertLimited(
    burst.find((r) => r.status === 429)!,
    'global',
  );
  await nextWindow();
  assert.equal((await t.api('GET', '/v1/events?limit=1', { headers: freshIp() })).status, 200, 'recovered');
});

test('when a user spreads requests over two edges, then both count against one limit in Redis', async () => {
  const { token } = await register('two-edges');
  const via = (url: string) =>
    fetch(`${url}/v1/bookings`, { headers: { authorization: `Bearer ${token}`, ...freshIp() } }).then((r) => r.status);
  const half = limits.rateUserMax / 2;
  const first = await times(half, () => via(t.url));
  const second = await times(half, () => via(edge2.url));
  assert.deepEqual([...first, ...second], Array(limits.rateUserMax).fill(200));
  assert.equal(await via(edge2.url), 429, "the second edge saw the first edge's requests");
  assert.equal(await via(t.url), 429);
});

test('when a client that is not a trusted proxy sends X-Forwarded-For, then it is ignored and the peer address is limited', async () => {
  await nextWindow();
  const burst = await times(limits.rateIpMax + 1, () =>
    fetch(`${edge2.url}/v1/events?limit=1`, { headers: freshIp() }).then((r) => r.status),
  );
  assert.deepEqual(burst.sort(), [...Array(limits.rateIpMax).fill(200), 429]);
});
