// The dashboard's feed on /ws and the page's files, against the real system:
// an admin's `subscribe-dashboard` brings an `activity` frame for every
// booking, cancellation, price change and alert; anyone else is refused with
// an error frame and keeps a usable socket; the page is served under its own
// content policy, which still allows no inline script.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import type { ActivityMessage, ServerMessage } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { isAvailability, isError, LiveTestClient, publishDomainEvent } from '../../ops/testing/live-client.js';

let t: TestSystem;
let nc: NatsConnection;
let user: { id: string; token: string };
const clients: LiveTestClient[] = [];
before(async () => {
  t = await startTestSystem();
  nc = await connect(natsOptions(t.system.config, 'supervisor'));
  [user] = await t.registerUsers(1, 'dash-live');
});
after(async () => {
  for (const c of clients) c.close();
  await nc?.close();
  await t?.stop();
});

const isAck = (of: string) => (m: ServerMessage) => m.type === 'ack' && m.of === of;
const isActivity =
  (test: (m: ActivityMessage) => boolean = () => true) =>
  (m: ServerMessage) =>
    m.type === 'activity' && test(m);

async function signedIn(token?: string): Promise<LiveTestClient> {
  const c = await LiveTestClient.open(t.url);
  clients.push(c);
  if (token) {
    c.send({ type: 'auth', token });
    await c.next(isAck('auth'), 'auth ack');
  }
  return c;
}

/** A round trip: every frame the edge sent this socket before the ack has arrived when it returns. */
async function settled(c: LiveTestClient): Promise<void> {
  c.send({ type: 'unsubscribe', eventIds: [randomUUID()] });
  await c.next(isAck('unsubscribe'), 'round-trip ack');
}

async function dashboard(): Promise<LiveTestClient> {
  const c = await signedIn(t.adminToken);
  c.send({ type: 'subscribe-dashboard' });
  await c.next(isAck('subscribe-dashboard'), 'dashboard ack');
  return c;
}

describe('the dashboard feed', () => {
  test("when a booking is made and cancelled through the API, then an admin's dashboard socket gets both as activity with the seat counts, and a user's socket gets neither", async () => {
    const event = await t.createEvent({ capacity: 30, price: 1200 });
    const [admin, other] = [await dashboard(), await signedIn(user.token)];
    const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: user.token, body: { quantity: 3 } });
    assert.equal(booked.status, 201);
    const confirmed = await admin.next<ActivityMessage>(
      isActivity((m) => m.eventId === event.id && m.kind === 'booking.confirmed'),
      'booking activity',
    );
    assert.deepEqual(confirmed.booking, { quantity: 3, totalPrice: 3600 });
    assert.deepEqual(confirmed.availability, {
      available: 27,
      held: 0,
      capacity: 30,
      price: 1200,
      status: 'scheduled',
    });
    assert.ok(confirmed.version > event.version);

    assert.equal((await t.api('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: user.token })).status, 200);
    const cancelled = await admin.next<ActivityMessage>(
      isActivity((m) => m.eventId === event.id && m.kind === 'booking.cancelled'),
      'cancel activity',
    );
    assert.deepEqual(cancelled.booking, { quantity: 3, totalPrice: 3600 });
    assert.equal(cancelled.availability?.available, 30);
    assert.notEqual(cancelled.id, confirmed.id);
    await other.next((m) => m.type === 'booking' && m.booking.status === 'cancelled', "the user's own cancellation");
    await settled(other);
    assert.deepEqual(other.pending(isActivity()), [], "a user's own booking frames, no activity");
  });

  test('when a price change and an analytics alert are published, then the dashboard gets them with their fields', async () => {
    const event = await t.createEvent({ capacity: 50 });
    const admin = await dashboard();
    const seats = { available: 50, held: 0, capacity: 50, price: 3100, status: 'scheduled' };
    publishDomainEvent(nc, t.system.config.shards, 'price.changed', event.id, event.version + 1, seats, {
      price: 3100,
      previous: 2500,
      strategy: 'dynamic',
      reason: 'demand is up',
    });
    publishDomainEvent(nc, t.system.config.shards, 'analytics.alert', event.id, event.version + 1, null, {
      kind: 'velocity-spike',
      observed: 42,
      baseline: 3,
      detail: '14x the usual rate',
    });
    const price = await admin.next<ActivityMessage>(
      isActivity((m) => m.kind === 'price.changed'),
      'price activity',
    );
    assert.deepEqual(price.price, { price: 3100, previous: 2500, reason: 'demand is up' });
    assert.equal(price.availability?.price, 3100);
    const alert = await admin.next<ActivityMessage>(
      isActivity((m) => m.kind === 'analytics.alert'),
      'alert activity',
    );
    assert.deepEqual(
      [alert.eventId, alert.availability, alert.alert],
      [event.id, null, { kind: 'velocity-spike', observed: 42, baseline: 3, detail: '14x the usual rate' }],
    );
  });

  test("when a domain event's data does not match its schema, then no dashboard gets it", async () => {
    const event = await t.createEvent();
    const admin = await dashboard();
    publishDomainEvent(nc, t.system.config.shards, 'price.changed', event.id, event.version + 1, null, {
      price: -1,
    } as never);
    publishDomainEvent(nc, t.system.config.shards, 'analytics.alert', event.id, event.version + 2, null, {
      kind: 'stalled-sale',
      observed: 0,
      baseline: 5,
      detail: 'no sales for 10 min',
    });
    await admin.next(
      isActivity((m) => m.kind === 'analytics.alert'),
      'the valid one after it',
    );
    await settled(admin);
    assert.deepEqual(admin.pending(isActivity((m) => m.kind === 'price.changed')), []);
  });
});

describe('refusals', () => {
  test('when a user (not an admin) asks for the dashboard feed, then it gets FORBIDDEN and its socket stays usable', async () => {
    const event = await t.createEvent();
    const c = await signedIn(user.token);
    c.send({ type: 'subscribe-dashboard' });
    const refused = await c.next(isError('FORBIDDEN'), 'FORBIDDEN');
    assert.match(JSON.stringify(refused), /admins only/);
    await c.subscribe([event.id]);
    await c.next(isAvailability(event.id), 'snapshot after the refusal');
    assert.equal(
      (await t.api('POST', `/v1/events/${event.id}/bookings`, { token: user.token, body: { quantity: 1 } })).status,
      201,
    );
    await c.next((m) => m.type === 'booking', 'its own booking');
    await settled(c);
    assert.deepEqual(c.pending(isActivity()), []);
  });

  test('when nobody has signed in, then asking for the dashboard feed gets UNAUTHENTICATED', async () => {
    const c = await signedIn();
    c.send({ type: 'subscribe-dashboard' });
    await c.next(isError('UNAUTHENTICATED'), 'UNAUTHENTICATED');
  });

  test('when a dashboard message is malformed, then it gets VALIDATION_FAILED naming the problem', async () => {
    const c = await signedIn(t.adminToken);
    c.send({ type: 'subscribe-dashboard', eventIds: [randomUUID()] });
    const extra = await c.next(isError('VALIDATION_FAILED'), 'extra field');
    assert.match(JSON.stringify(extra), /additional properties/);
    c.send({ type: 'subscribe-dashboards' });
    const unknown = await c.next(isError('VALIDATION_FAILED'), 'unknown type');
    assert.match(JSON.stringify(unknown), /subscribe-dashboard\b/);
  });

  test('when a dashboard socket signs in again with a user token, then the feed stops', async () => {
    const event = await t.createEvent();
    const c = await dashboard();
    c.send({ type: 'auth', token: user.token });
    await c.next(isAck('auth'), 'second auth ack');
    const watcher = await dashboard();
    assert.equal(
      (await t.api('POST', `/v1/events/${event.id}/bookings`, { token: user.token, body: { quantity: 1 } })).status,
      201,
    );
    await watcher.next(
      isActivity((m) => m.eventId === event.id),
      'activity on the admin socket',
    );
    await c.next((m) => m.type === 'booking', "the user's own booking, which comes with the same domain event");
    await settled(c);
    assert.deepEqual(c.pending(isActivity()), []);
  });
});

describe('the page', () => {
  test('when /dashboard is requested, then HTML comes with a policy of self-hosted scripts and styles only, and its files revalidate', async () => {
    const page = await fetch(`${t.url}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ])
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    assert.doesNotMatch(csp, /unsafe|\*/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/dashboard\/dashboard.js"><\/script>/);
    assert.doesNotMatch(
      html.replace(/<script [^>]*src="[^"]+"><\/script>/g, ''),
      /<script|style=/,
      'no inline script or style',
    );

    const script = await fetch(`${t.url}/dashboard/dashboard.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    const etag = script.headers.get('etag');
    assert.ok(etag);
    assert.equal((await fetch(`${t.url}/dashboard/dashboard.js`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal(
      (await t.api('GET', '/v1/events')).headers.get('content-security-policy'),
      "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
      'the API keeps its own policy',
    );
  });

  test("when a file that is not one of the page's is asked for, then it is a 404 problem", async () => {
    for (const path of [
      '/dashboard/nothing.js',
      '/dashboard/..%2F..%2Fpackage.json',
      '/dashboard/%2e%2e%2fplugin.ts',
      '/dashboard/__proto__',
    ]) {
      const r = await t.api('GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.code, 'NOT_FOUND', path);
    }
  });
});
