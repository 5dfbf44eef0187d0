// Outgoing webhooks end to end: API actions → domain events → the webhook
// actor → real HTTP receivers on this machine, which verify every signature
// with the published standardwebhooks package. Failures, 410, timeouts, order
// under concurrent bookings, the SSRF guard and a killed webhook thread are
// driven for real.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestSystem, type TestSystem, type Tuple } from '../../../ops/testing/harness.js';
import { eventuallyValue as eventually } from '../../../ops/testing/eventually.js';
import { Receiver, type Received } from './webhook-receiver.js';

const RECEIVERS = 11;

describe('webhooks', () => {
  let t: TestSystem;
  let r: Tuple<Receiver, typeof RECEIVERS>;
  before(async () => {
    // Array.from makes RECEIVERS of them; the cast gives back the count that its type forgets.
    r = (await Promise.all(Array.from({ length: RECEIVERS }, () => Receiver.start()))) as Tuple<
      Receiver,
      typeof RECEIVERS
    >;
    t = await startTestSystem({
      webhookAllowHosts: r.map((x) => `127.0.0.1:${x.port}`),
      webhookRetryBaseMs: 200,
      webhookRetryMaxMs: 1000,
      webhookTimeoutMs: 1000,
    });
  });
  after(async () => {
    await t?.stop();
    await Promise.all((r ?? []).map((x) => x.stop()));
  });

  const register = async (receiver: Receiver, events: string[] = ['booking.confirmed']) => {
    const res = await t.api('POST', '/v1/admin/webhooks', { token: t.adminToken, body: { url: receiver.url, events } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; secret: string };
  };
  const book = async (token: string, eventId: string) => {
    const res = await t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity: 1 } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string };
  };
  const deliveries = async (endpointId: string) => {
    const res = await t.api('GET', `/v1/admin/webhooks/${endpointId}/deliveries?limit=100`, { token: t.adminToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as {
      id: string;
      status: string;
      attempts: number;
      lastStatusCode: number | null;
      lastError: string | null;
      lastResponse: string | null;
      eventId: string;
    }[];
  };
  const verify = (secret: string, got: Received) =>
    new Webhook(secret).verify(got.body, got.headers as Record<string, string>);

  test('when an endpoint is registered and a user books, then one signed booking.confirmed arrives that standardwebhooks verifies', async () => {
    const endpoint = await register(r[0]);
    assert.match(endpoint.secret, /^whsec_/);
    const read = await t.api('GET', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken });
    assert.equal(read.status, 200);
    assert.equal(read.body.secret, undefined, 'the secret is shown only on creation');
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'wh-sign');
    const booking = await book(u.token, event.id);

    const got = await eventually('the delivery', () => r[0].about(event.id)[0]);
    const payload = verify(endpoint.secret, got) as Received['payload'];
    assert.equal(payload.type, 'booking.confirmed');
    assert.equal(payload.data.id, booking.id);
    assert.equal(
      got.headers['webhook-id'],
      (await eventually('logged', async () => (await deliveries(endpoint.id))[0]))?.id,
    );
    assert.throws(() => verify('whsec_' + Buffer.alloc(24, 1).toString('base64'), got), 'another key does not verify');
  });

  test('when the receiver answers 500, 500, then 200, then the delivery succeeds on the third attempt under one webhook-id', async () => {
    r[1].respond = (n) => ({ status: n < 2 ? 500 : 200 });
    const endpoint = await register(r[1]);
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'wh-retry');
    await book(u.token, event.id);

    const done = await eventually(
      'delivered',
      async () => (await deliveries(endpoint.id)).find((d) => d.status === 'delivered'),
      60_000,
    );
    assert.equal(done.attempts, 3);
    assert.equal(done.lastStatusCode, 200);
    const got = r[1].about(event.id);
    assert.equal(got.length, 3);
    assert.deepEqual(new Set(got.map((g) => g.headers['webhook-id'])), new Set([done.id]));
    for (const g of got) verify(endpoint.secret, g);
  });

  test('when the receiver answers 410, then the endpoint is disabled and gets nothing more', async () => {
    r[2].respond = () => ({ status: 410 });
    const endpoint = await register(r[2]);
    const event = await t.createEvent();
    const [u1, u2] = await t.registerUsers(2, 'wh-gone');
    await book(u1.token, event.id);
    const disabled = await eventually('disabled', async () => {
      const res = await t.api('GET', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken });
      return res.body.enabled === false ? res.body : undefined;
    });
    assert.match(disabled.disabledReason, /410/);
    // Registered before the booking: an endpoint gets the changes processed after it exists, and the
    // webhook thread may process this booking before a registration sent after it (it did under two
    // test files at once beside the CPU hog).
    const other = await register(r[3]);
    await book(u2.token, event.id);
    await eventually('the second booking reaches another endpoint', () =>
      r[3].about(event.id).length >= 1 ? true : undefined,
    );
    assert.equal(r[2].about(event.id).length, 1, 'one attempt, then nothing');
    await t.api('DELETE', `/v1/admin/webhooks/${other.id}`, { token: t.adminToken });
  });

  test('when the receiver does not answer in time, then the attempt fails as a timeout and the next one delivers', async () => {
    r[4].respond = (n) => (n === 0 ? { status: 200, hang: true } : { status: 200 });
    const endpoint = await register(r[4]);
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'wh-timeout');
    await book(u.token, event.id);
    const done = await eventually(
      'delivered',
      async () => (await deliveries(endpoint.id)).find((d) => d.status === 'delivered'),
      60_000,
    );
    assert.equal(done.attempts, 2);
    assert.equal(r[4].about(event.id).length, 2);
    await t.api('DELETE', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken });
  });

  test('when many users book one event at once and some attempts fail, then each endpoint accepts its changes in version order and a slow endpoint holds up only itself', async () => {
    // Every 7th attempt at the fast endpoint fails: without the per-event order, later changes would overtake it.
    r[5].respond = (n) => ({ status: n % 7 === 3 ? 500 : 200, delayMs: n % 3 });
    // The slow endpoint takes half a second to fail every attempt until the fast one has everything: what it
    // holds up is then a state, not the outcome of a race between their speeds on a busy machine.
    let slowRecovered = false;
    r[6].respond = () => (slowRecovered ? { status: 200, delayMs: 150 } : { status: 503, delayMs: 500 });
    const fast = await register(r[5], ['booking.confirmed', 'booking.cancelled']);
    const slow = await register(r[6], ['booking.confirmed', 'booking.cancelled']);
    const event = await t.createEvent({ capacity: 500 });
    const users = await t.registerUsers(40, 'wh-order');
    const bookings = await Promise.all(users.map((u) => book(u.token, event.id)));
    await Promise.all(
      bookings.slice(0, 10).map((b, i) => t.api('POST', `/v1/bookings/${b.id}/cancel`, { token: users[i]?.token })),
    );

    const fastGot = await eventually(
      'every change accepted by the fast endpoint',
      () => (r[5].accepted(event.id).length >= 50 ? r[5].accepted(event.id) : undefined),
      60_000,
    );
    await eventually('the slow endpoint tried', () => (r[6].about(event.id).length > 0 ? true : undefined), 60_000);
    assert.equal(r[6].accepted(event.id).length, 0, 'the slow endpoint, failing meanwhile, has nothing yet');
    slowRecovered = true;
    const slowGot = await eventually(
      'every change at the slow endpoint',
      () => (r[6].accepted(event.id).length >= 50 ? r[6].accepted(event.id) : undefined),
      60_000,
    );
    for (const got of [fastGot, slowGot]) {
      const versions = got.map((g) => g.payload.version);
      assert.deepEqual(
        versions,
        [...versions].sort((a, b) => a - b),
        'version order',
      );
      assert.equal(new Set(got.map((g) => g.headers['webhook-id'])).size, 50);
    }
    for (const e of [fast, slow]) await t.api('DELETE', `/v1/admin/webhooks/${e.id}`, { token: t.adminToken });
  });

  test('when a URL points at a private, loopback or metadata address, then registration is refused naming the url, and a send there is refused too', async () => {
    for (const url of [
      `http://127.0.0.1:${r[7].port + 1}/x`,
      'http://169.254.169.254/latest',
      'http://10.1.2.3/hook',
      'http://[::1]:8080/x',
      `http://localhost:${r[7].port}/hook`,
    ]) {
      const res = await t.api('POST', '/v1/admin/webhooks', { token: t.adminToken, body: { url, events: ['*'] } });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.match(res.body.detail, /url/);
    }
    // Send time: a row that bypassed registration (as if DNS changed since) is refused at connect.
    const endpoint = await register(r[7]);
    await t.db.query('UPDATE webhook_endpoints SET url = $2 WHERE id = $1', [
      endpoint.id,
      `http://localhost:${r[7].port}/hook`,
    ]);
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'wh-ssrf');
    await book(u.token, event.id);
    const failed = await eventually('a refused attempt', async () =>
      (await deliveries(endpoint.id)).find((d) => d.attempts >= 1),
    );
    assert.match(failed.lastError ?? '', /AddressRefused/);
    assert.equal(r[7].received.length, 0);
    await t.api('DELETE', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken });
  });

  test('when the webhook thread is killed mid-delivery, then every booking still arrives, under one webhook-id each', async () => {
    r[8].respond = () => ({ status: 200, delayMs: 20 });
    const endpoint = await register(r[8]);
    const event = await t.createEvent({ capacity: 500 });
    const users = await t.registerUsers(60, 'wh-kill');
    await Promise.all(users.map((u) => book(u.token, event.id)));
    await eventually('deliveries under way', () => (r[8].about(event.id).length >= 5 ? true : undefined));
    t.system.supervisor.pools.webhooks.crashShardOwner(0);

    await eventually(
      'every booking at the receiver',
      () => (new Set(r[8].about(event.id).map((g) => g.headers['webhook-id'])).size >= 60 ? true : undefined),
      60_000,
    );
    const ids = new Set(r[8].about(event.id).map((g) => g.headers['webhook-id']));
    assert.equal(ids.size, 60);
    const delivered = async () =>
      (
        await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'delivered'`,
          [endpoint.id],
        )
      ).rows[0]?.n;
    await eventually('all recorded delivered', async () => ((await delivered()) === 60 ? true : undefined), 60_000);
  });

  test('when a secret is rotated, then deliveries carry signatures that both the new and the previous secret verify', async () => {
    r[0].respond = () => ({ status: 200 });
    const list = await t.api('GET', '/v1/admin/webhooks', { token: t.adminToken });
    const first = list.body.items.find((e: { url: string }) => e.url === r[0].url);
    const {
      rows: [stored],
    } = await t.db.query<{ secret: string }>('SELECT secret FROM webhook_endpoints WHERE id = $1', [first.id]);
    assert.ok(stored, "the endpoint's secret");
    const old = stored.secret;
    const rotated = await t.api('POST', `/v1/admin/webhooks/${first.id}/rotate-secret`, { token: t.adminToken });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, old);
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'wh-rotate');
    await book(u.token, event.id);
    const got = await eventually('the delivery', () => r[0].about(event.id)[0]);
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    verify(rotated.body.secret, got);
    verify(old, got);
  });

  test('when a delivery fails past the retry window, then it is dead and the endpoint disabled; enabling it and retrying delivers it', async () => {
    r[9].respond = () => ({ status: 503, body: 'x'.repeat(5000) });
    const endpoint = await register(r[9]);
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'wh-dead');
    await book(u.token, event.id);
    const failing = await eventually('a failed attempt', async () =>
      (await deliveries(endpoint.id)).find((d) => d.status === 'failed'),
    );
    assert.equal(failing.lastResponse?.length, 1024, 'at most 1 KiB of the answer is kept');
    // As if the first attempt were two days old: the next failure is past the 24 h window.
    await t.db.query(`UPDATE webhook_deliveries SET first_attempt_at = now() - interval '2 days' WHERE id = $1`, [
      failing.id,
    ]);
    await eventually('dead', async () => (await deliveries(endpoint.id)).find((d) => d.status === 'dead'), 60_000);
    const disabled = (await t.api('GET', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken })).body;
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabledReason, /retry schedule/);

    r[9].respond = () => ({ status: 200 });
    assert.equal(
      (await t.api('PATCH', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken, body: { enabled: true } })).body
        .enabled,
      true,
    );
    const retried = await t.api('POST', `/v1/admin/webhooks/${endpoint.id}/deliveries/${failing.id}/retry`, {
      token: t.adminToken,
    });
    assert.equal(retried.status, 202);
    assert.equal(retried.body.status, 'pending');
    await eventually(
      'delivered after the manual retry',
      async () => (await deliveries(endpoint.id)).find((d) => d.status === 'delivered'),
      60_000,
    );
    assert.equal(
      new Set(r[9].about(event.id).map((g) => g.headers['webhook-id'])).size,
      1,
      'one webhook-id throughout',
    );
    await t.api('DELETE', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken });
  });

  test('when the receiver redirects, then the redirect is not followed and the attempt counts as failed', async () => {
    r[10].respond = () => ({ status: 302, body: 'moved' });
    const endpoint = await register(r[10]);
    const event = await t.createEvent();
    const [u1, u2] = await t.registerUsers(2, 'wh-redirect');
    await book(u1.token, event.id);
    await book(u2.token, event.id);
    const failed = await eventually('a failed attempt', async () =>
      (await deliveries(endpoint.id)).find((d) => d.status === 'failed'),
    );
    assert.equal(failed.lastStatusCode, 302);
    await eventually('both bookings planned', async () =>
      (await deliveries(endpoint.id)).length === 2 ? true : undefined,
    );
    const page = await t.api('GET', `/v1/admin/webhooks/${endpoint.id}/deliveries?limit=1`, { token: t.adminToken });
    assert.equal(page.body.items.length, 1);
    const next = await t.api(
      'GET',
      `/v1/admin/webhooks/${endpoint.id}/deliveries?limit=1&cursor=${page.body.nextCursor}`,
      { token: t.adminToken },
    );
    assert.equal(next.body.items.length, 1);
    assert.notEqual(next.body.items[0].id, page.body.items[0].id);
    assert.equal(
      (await t.api('GET', `/v1/admin/webhooks/${endpoint.id}/deliveries?cursor=nonsense`, { token: t.adminToken }))
        .status,
      400,
    );
    await t.api('DELETE', `/v1/admin/webhooks/${endpoint.id}`, { token: t.adminToken });
  });

  test('when input is bad or the caller is not an admin, then the answer is a 4xx problem naming the field', async () => {
    const bad = await t.api('POST', '/v1/admin/webhooks', {
      token: t.adminToken,
      body: { url: r[0].url, events: ['booking.exploded'] },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /events/);
    const [u] = await t.registerUsers(1, 'wh-user');
    const forbidden = await t.api('POST', '/v1/admin/webhooks', {
      token: u.token,
      body: { url: r[0].url, events: ['*'] },
    });
    assert.equal(forbidden.status, 403);
    const missing = await t.api('GET', '/v1/admin/webhooks/01937a4c-1f00-7000-8000-000000000000/deliveries', {
      token: t.adminToken,
    });
    assert.equal(missing.status, 404);
  });
});
