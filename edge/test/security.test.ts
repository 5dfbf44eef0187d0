// Security headers, the CORS allow-list, load shedding under a drowning
// event loop, and JWT expiry and secret rotation.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withOverrides } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { startEdge, type Edge } from '../server.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

const ALLOWED = 'https://app.example.test';
let t: TestSystem;
let rotated: Edge;
/** Sheds load early; its own edge, since starting a whole system lags the loop too. */
let touchy: Edge;
before(async () => {
  t = await startTestSystem({ corsOrigins: [ALLOWED] });
  touchy = await startEdge(
    withOverrides(t.system.config, { httpPort: 0, maxEventLoopDelayMs: 100 }),
    createLogger('error'),
  );
  // The next secret is in use; the one every token so far was signed with is the previous one.
  rotated = await startEdge(
    withOverrides(t.system.config, {
      httpPort: 0,
      jwtSecret: 'the-next-secret-0123456789abcdef',
      jwtPreviousSecret: t.system.config.jwtSecret,
    }),
    createLogger('error'),
  );
});
after(async () => {
  await touchy?.stop();
  await rotated?.stop();
  await t?.stop();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function hs256(claims: Record<string, unknown>, secret: string): string {
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
const status = (url: string, token: string) =>
  fetch(`${url}/v1/bookings`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

test('when the API answers, then it carries the security headers, and the docs UI its own content policy', async () => {
  const api = await fetch(`${t.url}/v1/events`);
  assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
  assert.match(api.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.match(api.headers.get('strict-transport-security') ?? '', /max-age=/);
  assert.equal(api.headers.get('x-powered-by'), null);
  const ui = await fetch(`${t.url}/docs/static/index.html`);
  assert.equal(ui.status, 200);
  assert.match(ui.headers.get('content-security-policy') ?? '', /script-src 'self'/);
});

test('when a browser asks from an allowed origin, then CORS allows it and exposes the API headers; from another origin it does not', async () => {
  const preflight = await fetch(`${t.url}/v1/events`, {
    method: 'OPTIONS',
    headers: {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,idempotency-key',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), ALLOWED);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /idempotency-key/);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /evently-admission/);
  const simple = await fetch(`${t.url}/v1/events`, { headers: { origin: ALLOWED } });
  assert.match(simple.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
  const other = await fetch(`${t.url}/v1/events`, { headers: { origin: 'https://evil.example.test' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('when the event loop is blocked past the limit, then requests get a fast 503 problem, and service resumes after', async () => {
  // Handlers gone wrong: the loop gets a turn only every 300 ms, for a second and a half.
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    const busy = Date.now() + 300;
    while (Date.now() < busy) {
      /* holding the loop */
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const r = await fetch(`${touchy.url}/v1/events`);
  assert.equal(r.status, 503);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(((await r.json()) as { code: string }).code, 'UNAVAILABLE');
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  // Recovery is a state, not a time: on a starved machine the loop's delay can stay above 100 ms for
  // a while after the handlers let go (the bound only stops a broken test from hanging).
  let recovered = 0;
  for (const until = Date.now() + 60_000; recovered !== 200 && Date.now() < until;) {
    await sleep(100);
    recovered = (await fetch(`${touchy.url}/v1/events`)).status;
  }
  assert.equal(recovered, 200);
});

test('when the signing secret is rotated, then tokens of the previous secret still verify, new ones are signed with the next, and others fail', async () => {
  const [user] = await t.registerUsers(1, 'rotation');
  assert.equal(await status(rotated.url, user.token), 200, 'a token of the previous secret');
  const login = await fetch(`${rotated.url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: 'correct horse battery' }),
  });
  const { token: fresh } = (await login.json()) as { token: string };
  assert.equal(await status(rotated.url, fresh), 200, 'a token of the next secret');
  assert.equal(await status(t.url, fresh), 401, 'an edge that has not rotated yet does not know the next secret');
  const now = Math.floor(Date.now() / 1000);
  assert.equal(await status(rotated.url, hs256({ sub: user.id, role: 'user', iat: now }, 'some-other-secret')), 401);
  assert.equal(
    await status(
      rotated.url,
      hs256({ sub: user.id, role: 'user', iat: now - 7200, exp: now - 3600 }, t.system.config.jwtSecret),
    ),
    401,
    'expired',
  );
  assert.equal(
    await status(
      rotated.url,
      hs256({ sub: user.id, role: 'user', iat: now, exp: now + 60 }, t.system.config.jwtSecret),
    ),
    200,
  );
});
