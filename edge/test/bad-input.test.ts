// Bad input of every kind gets a clear 4xx problem, never a 5xx, never a
// crash, and never changes what is stored.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { natsOptions } from '../../platform/nats-connect.js';
import { eventually } from '../../ops/testing/eventually.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { sweep, type OpenApiOperation, type SweepRequest } from './input-sweep.js';

const BROKER_TIMEOUT_MS = 4000;
let t: TestSystem;
let eventId: string;
let userToken: string;
before(async () => {
  // A short wait for an unserved shard: one test checks that a pool that is gone fails fast. The
  // broker timeout leaves room for a loaded machine (the identity thread runs at a lower priority).
  t = await startTestSystem({ brokerTimeoutMs: BROKER_TIMEOUT_MS, unservedWaitMs: 100 });
  eventId = (await t.createEvent({ capacity: 10 })).id;
  userToken = (await t.registerUsers(1, 'bad'))[0].token;
});
after(async () => {
  await t?.stop();
});

interface Case {
  name: string;
  method: string;
  path: () => string;
  auth?: 'user' | 'admin';
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code?: string;
}

const injection = "'; DROP TABLE events; --";
const future = () => new Date(Date.now() + 86_400_000).toISOString();
const eventBody = (over: Record<string, unknown>) => ({
  name: 'n',
  venue: 'v',
  startsAt: future(),
  capacity: 5,
  price: 100,
  ...over,
});

const cases: Case[] = [
  ...[
    ['string', '2'],
    ['negative', -1],
    ['zero', 0],
    ['fraction', 1.5],
    ['huge', 1e12],
    ['null', null],
    ['boolean', true],
    ['object', { n: 1 }],
  ].map(([name, quantity]) => ({
    name: `quantity ${name}`,
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user' as const,
    body: { quantity },
    status: 400,
    code: 'VALIDATION_FAILED',
  })),
  {
    name: 'quantity missing',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    body: {},
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'extra field',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    body: { quantity: 1, price: 0 },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'array body',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    body: [1],
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    raw: '{"quantity": 1',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'MALFORMED_JSON',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    raw: '',
    headers: { 'content-type': 'application/json' },
    status: 400,
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    raw: JSON.stringify({ quantity: 1, pad: 'x'.repeat(40_000) }),
    headers: { 'content-type': 'application/json' },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'text body',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    raw: 'quantity=1',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'idempotency key too long',
    method: 'POST',
    path: () => `/v1/events/${eventId}/bookings`,
    auth: 'user',
    body: { quantity: 1 },
    headers: { 'idempotency-key': 'k'.repeat(201) },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  ...[
    'abc',
    encodeURIComponent(injection),
    '01900000-0000-7000-8000-00000000000',
    '01900000-0000-7000-8000-000000000000x',
    '%00',
    'é'.repeat(36),
  ].map((id) => ({
    name: `bad event id ${id.slice(0, 12)}`,
    method: 'GET',
    path: () => `/v1/events/${id}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  })),
  {
    name: 'bad booking id',
    method: 'GET',
    path: () => `/v1/bookings/${encodeURIComponent(injection)}`,
    auth: 'user',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'capacity negative',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ capacity: -5 }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'capacity text',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ capacity: 'many' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'price huge',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ price: 1e15 }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'startsAt not a date',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ startsAt: 'tomorrow' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'startsAt in the past',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ startsAt: '2001-01-01T00:00:00Z' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'endsAt before start',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ endsAt: '2001-01-01T00:00:00Z' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'empty name',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ name: '' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'very long name',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ name: 'x'.repeat(10_000) }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'currency word',
    method: 'POST',
    path: () => '/v1/events',
    auth: 'admin',
    body: eventBody({ currency: 'euro' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'empty patch',
    method: 'PATCH',
    path: () => `/v1/events/${eventId}`,
    auth: 'admin',
    body: {},
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'register bad email',
    method: 'POST',
    path: () => '/v1/auth/register',
    body: { email: injection, password: 'long enough pw', name: 'x' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'register short password',
    method: 'POST',
    path: () => '/v1/auth/register',
    body: { email: 'short@example.test', password: 'short', name: 'x' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'list limit zero', method: 'GET', path: () => '/v1/events?limit=0', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'list limit 1000',
    method: 'GET',
    path: () => '/v1/events?limit=1000',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'list limit text',
    method: 'GET',
    path: () => '/v1/events?limit=abc',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'list from not a date',
    method: 'GET',
    path: () => '/v1/events?from=yesterday',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'list bad status',
    method: 'GET',
    path: () => '/v1/events?status=bogus',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'list garbage cursor',
    method: 'GET',
    path: () => `/v1/events?cursor=${encodeURIComponent(injection)}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'list forged cursor',
    method: 'GET',
    path: () => `/v1/events?cursor=${Buffer.from(JSON.stringify(['not a date', injection])).toString('base64url')}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'bookings forged cursor',
    method: 'GET',
    path: () => `/v1/bookings?cursor=${Buffer.from(JSON.stringify([injection])).toString('base64url')}`,
    auth: 'user',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'q injection is just text',
    method: 'GET',
    path: () => `/v1/events?q=${encodeURIComponent("%' OR 1=1 --")}`,
    status: 200,
  },
  { name: 'unknown route', method: 'GET', path: () => '/v1/nothing-here', status: 404, code: 'NOT_FOUND' },
];

test('when every kind of bad input is sent, then each gets its 4xx problem and nothing stored changes', async () => {
  const before = (
    await t.db.query(
      'SELECT (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM bookings) AS b, (SELECT count(*) FROM users) AS u',
    )
  ).rows[0];
  for (const c of cases) {
    const token = c.auth === 'admin' ? t.adminToken : c.auth === 'user' ? userToken : undefined;
    const r = await t.api(c.method, c.path(), { token, body: c.body, raw: c.raw, headers: c.headers });
    assert.equal(r.status, c.status, `${c.name}: ${r.status} ${JSON.stringify(r.body)}`);
    if (c.status >= 400) {
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, c.name);
      assert.equal(r.body.status, c.status, c.name);
      assert.match(r.body.code, /^[A-Z][A-Z_]+$/, c.name);
      assert.ok(r.body.type && r.body.title && r.body.detail, `${c.name}: complete problem`);
      if (c.code) assert.equal(r.body.code, c.code, c.name);
    }
  }
  const afterwards = (
    await t.db.query(
      'SELECT (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM bookings) AS b, (SELECT count(*) FROM users) AS u',
    )
  ).rows[0];
  assert.deepEqual(afterwards, before);
  assert.equal((await t.api('GET', `/v1/events/${eventId}`)).status, 200, 'still serving');
});

test('when every route of the served OpenAPI document is swept with generated bad input, then no reply is a 5xx and every error is a problem', async () => {
  const doc = (await t.api('GET', '/docs/json')).body as { paths: Record<string, Record<string, OpenApiOperation>> };
  const [owner] = await t.registerUsers(1, 'sweep');
  const bookingId = (
    await t.api('POST', `/v1/events/${eventId}/bookings`, { token: owner.token, body: { quantity: 1 } })
  ).body.id;
  const requests: (SweepRequest & { token?: string })[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    const pathValue = (name: string) =>
      name === 'template'
        ? 'booking-confirmed'
        : template.startsWith('/v1/bookings/')
          ? bookingId
          : template.startsWith('/v1/events/')
            ? eventId
            : randomUUID();
    for (const [method, op] of Object.entries(methods)) {
      const generated = sweep(method.toUpperCase(), template, op, pathValue);
      requests.push(...generated.map((r) => ({ ...r, token: t.adminToken })));
      // The same operation as nobody and with a forged token.
      const first = generated[generated.length - 1] ?? {
        name: `${method} ${template}`,
        method: method.toUpperCase(),
        path: template.replace(/\{\w+\}/g, pathValue),
        headers: {},
      };
      requests.push(
        { ...first, name: `${first.name} (anonymous)` },
        { ...first, name: `${first.name} (forged token)`, token: `${t.adminToken.slice(0, -3)}abc` },
      );
    }
  }
  assert.ok(requests.length > 1000, `${requests.length} requests generated`);
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let r = requests[next++]; r !== undefined; r = requests[next++]) {
      const headers: Record<string, string> = { ...r.headers };
      if (r.token) headers.authorization = `Bearer ${r.token}`;
      // A 503/504 from an actor that was too slow to answer (a loaded machine, a readiness ping) is
      // about load, not the input: retried as a client would, and judged by the final answer.
      let res: Response;
      let body: string;
      for (let attempt = 1; ; attempt++) {
        res = await fetch(t.url + r.path, { method: r.method, headers, body: r.body });
        body = await res.text();
        if (!(res.status === 503 || res.status === 504) || attempt >= 5) break;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
      const type = res.headers.get('content-type') ?? '';
      if (res.status >= 500) failures.push(`${r.name}: ${res.status} ${body.slice(0, 200)}`);
      else if (res.headers.has('retry-after') && res.status !== 429)
        failures.push(`${r.name}: ${res.status} says retry-after`);
      else if (
        res.status === 400 &&
        r.field &&
        !new RegExp(`\\b${r.field}\\b`).test((JSON.parse(body) as { detail: string }).detail)
      ) {
        failures.push(`${r.name}: the 400 does not name ${r.field}: ${body.slice(0, 200)}`);
      } else if (
        res.status >= 400 &&
        (!type.startsWith('application/problem+json') || JSON.parse(body).status !== res.status)
      ) {
        failures.push(`${r.name}: ${res.status} not a problem (${type})`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.deepEqual(failures, [], `${failures.length} of ${requests.length} failed`);
  assert.equal((await t.api('GET', `/v1/events/${eventId}`)).status, 200, 'still serving');
});

test('when a bad message reaches an actor directly, bypassing the edge, then it is refused and the actor keeps serving', async () => {
  const { connect } = await import('nats');
  const { subjectFor, inventory, shardOf } = await import('../../protocol/index.js');
  const nc = await connect(natsOptions(t.system.config, 'supervisor'));
  try {
    const subject = subjectFor(inventory.book, shardOf(eventId, t.system.config.shards));
    for (const payload of [
      'not json',
      JSON.stringify({ eventId, quantity: -1 }),
      JSON.stringify({ eventId: injection, quantity: 1 }),
    ]) {
      const reply = (await nc.request(subject, payload, { timeout: 10_000 })).json<{ ok: boolean; code: string }>();
      assert.equal(reply.ok, false);
      assert.equal(reply.code, 'VALIDATION_FAILED');
    }
  } finally {
    await nc.close();
  }
  assert.equal((await t.api('GET', `/v1/events/${eventId}`)).status, 200);
});

test('when the inventory actors are gone, then requests fail fast with 503 and readiness says so', async () => {
  // Ready first. Right after the sweeps a loaded machine can take over readiness's 1-s ping to answer
  // (a 503 here in one CI run), so this waits for the state instead of asking once.
  await eventually(async () => assert.equal((await t.api('GET', '/readyz')).status, 200));
  await t.system.supervisor.pools.inventory.stop();
  const started = Date.now();
  // An event no edge cache holds, so the read has to reach an actor.
  const r = await t.api('GET', `/v1/events/${randomUUID()}`);
  assert.equal(r.status, 503);
  assert.equal(r.body.code, 'UNAVAILABLE');
  assert.ok(Date.now() - started < BROKER_TIMEOUT_MS, 'failed before the broker timeout: no hang');
  const ready = await t.api('GET', '/readyz');
  assert.equal(ready.status, 503);
  assert.match(ready.body.detail, /inventory shard/);
});

test('when an actor takes the request but never answers, then the edge gives up with 504 after the timeout', async () => {
  const { connect } = await import('nats');
  const { subjectFor, inventory, shardOf } = await import('../../protocol/index.js');
  const nc = await connect(natsOptions(t.system.config, 'supervisor'));
  try {
    const uncached = randomUUID();
    nc.subscribe(subjectFor(inventory.getEvent, shardOf(uncached, t.system.config.shards)), {
      callback: () => undefined,
    });
    await nc.flush();
    const started = Date.now();
    const r = await t.api('GET', `/v1/events/${uncached}`);
    assert.equal(r.status, 504);
    assert.equal(r.body.code, 'TIMEOUT');
    assert.ok(Date.now() - started < BROKER_TIMEOUT_MS * 3, 'bounded by the broker timeout');
  } finally {
    await nc.close();
  }
});
