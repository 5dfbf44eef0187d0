// The hardening rules of the contract, one test per finding of issue 14's
// table: no input reaches a 500, 405 for a known path, authentication before
// validation, and messages that name the field and what it may be.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

let t: TestSystem;
let userToken: string;
before(async () => {
  t = await startTestSystem();
  userToken = (await t.registerUsers(1, 'hard'))[0].token;
});
after(async () => {
  await t?.stop();
});

const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');

function assertClear400(r: { status: number; headers: Headers; body: any }, field: string, what: string): void {
  assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, 'VALIDATION_FAILED', what);
  assert.match(r.body.detail, new RegExp(`\\b${field}\\b`), `${what}: the detail names ${field}`);
  assert.equal(r.headers.get('retry-after'), null, `${what}: no retry-after on an error a retry cannot fix`);
}

test('when an anonymous request carries a crafted cursor or a date of year 0000, then it is a 400 naming the field, not a 500', async () => {
  assertClear400(
    await t.api('GET', `/v1/events?cursor=${cursor(['2027-01-01T00:00:00Z', 'x'])}`),
    'cursor',
    'cursor with a non-UUID id',
  );
  assertClear400(
    await t.api('GET', `/v1/events?cursor=${cursor(['0000-01-01T00:00:00Z', '01937a4c-1f00-7000-8000-0000000000ee'])}`),
    'cursor',
    'cursor of year 0000',
  );
  assertClear400(await t.api('GET', '/v1/events?from=0000-01-01T00:00:00Z'), 'from', 'from year 0000');
  assertClear400(await t.api('GET', '/v1/events?to=0000-01-01T00:00:00Z'), 'to', 'to year 0000');
  assertClear400(await t.api('GET', '/v1/events?from=99999-01-01T00:00:00Z'), 'from', 'from year 99999');
});

test('when an admin asks for the audit log or the daily report of year 0000, then it is a 400 naming the field, without retry-after', async () => {
  assertClear400(
    await t.api('GET', '/v1/admin/audit?from=0000-01-01T00:00:00Z', { token: t.adminToken }),
    'from',
    'audit from',
  );
  assertClear400(
    await t.api('GET', '/v1/admin/analytics/reports/daily?day=0000-01-01', { token: t.adminToken }),
    'day',
    'daily report',
  );
  assertClear400(
    await t.api('GET', `/v1/admin/audit?cursor=${cursor(['2027-01-01T00:00:00Z', 'x'])}`, { token: t.adminToken }),
    'cursor',
    'audit cursor',
  );
});

test('when a known path is asked with a method it does not serve, then it is 405 METHOD_NOT_ALLOWED with allow', async () => {
  const event = await t.createEvent();
  const r = await t.api('DELETE', `/v1/events/${event.id}`, { token: t.adminToken });
  assert.equal(r.status, 405, JSON.stringify(r.body));
  assert.equal(r.body.code, 'METHOD_NOT_ALLOWED');
  assert.match(r.headers.get('allow') ?? '', /\bGET\b.*\bPATCH\b/);
  assert.equal((await t.api('GET', '/v1/no-such-thing')).status, 404, 'an unknown path stays 404');
});

test("when a request without a token or with a user's token reaches a protected route with a bad body, then it is 401 or 403, not 400", async () => {
  assert.equal((await t.api('POST', '/v1/events', { body: {} })).status, 401);
  assert.equal(
    (await t.api('POST', '/v1/events', { raw: '{not json', headers: { 'content-type': 'application/json' } })).status,
    401,
  );
  assert.equal((await t.api('POST', '/v1/events', { token: userToken, body: {} })).status, 403);
  assert.equal((await t.api('GET', '/v1/admin/audit?from=0000', { token: userToken })).status, 403);
  assert.equal(
    (await t.api('POST', '/v1/events', { token: t.adminToken, body: {} })).status,
    400,
    'an admin gets to validation',
  );
});

test('when input is wrong, then the detail names the field and what is allowed', async () => {
  const status = await t.api('GET', '/v1/events?status=bogus');
  assert.equal(status.status, 400);
  assert.match(status.body.detail, /^status must be one of scheduled, cancelled, completed$/);
  const extra = await t.api('GET', '/v1/bookings?status=confirmed', { token: userToken });
  assert.equal(extra.status, 400);
  assert.match(extra.body.detail, /\bstatus\b/, 'the unknown parameter is named');
  assert.match(extra.body.detail, /\blimit\b.*\bcursor\b/, 'and the allowed ones');
  const proto = await t.api('POST', '/v1/auth/login', {
    raw: '{"__proto__":{"admin":true},"email":"a@b.test","password":"x"}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(proto.status, 400);
  assert.equal(proto.body.code, 'VALIDATION_FAILED');
  assert.doesNotMatch(proto.body.detail, /not valid JSON/);
  assert.match(proto.body.detail, /__proto__/);
});

test('when a client declares a body of 100 bytes and sends 4, then the edge cuts it off within 30 s', async () => {
  const { connect: tcp } = await import('node:net');
  const { port } = new URL(t.url);
  const socket = tcp({ host: '127.0.0.1', port: Number(port) });
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk.toString();
  });
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now())));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const started = performance.now();
  socket.write(
    'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"em',
  );
  const ended = await Promise.race([
    closed,
    new Promise<undefined>((resolve) => setTimeout(resolve, 60_000, undefined)),
  ]);
  socket.destroy();
  assert.ok(ended !== undefined, 'the connection was still open after 60 s');
  assert.ok(ended - started < 30_000, `cut off after ${Math.round(ended - started)} ms`);
  assert.match(answer, /^HTTP\/1\.1 408/, 'told why');
});
