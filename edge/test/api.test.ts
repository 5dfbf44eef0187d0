// The public contract of docs/api.md for auth, events and bookings, driven over
// HTTP against the real system.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readSeatLedger } from '../../actors/inventory/public.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

let t: TestSystem;
before(async () => {
  t = await startTestSystem();
});
after(async () => {
  await t?.stop();
});

const book = (eventId: string, token: string, quantity: unknown, headers: Record<string, string> = {}) =>
  t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity }, headers });

describe('accounts', () => {
  test('when an email registers twice in another case, then the second is EMAIL_TAKEN', async () => {
    const first = await t.api('POST', '/v1/auth/register', {
      body: { email: 'Ann@Example.test', password: 'long enough pw', name: 'Ann' },
    });
    assert.equal(first.status, 201);
    assert.equal(first.body.user.role, 'user');
    assert.ok(first.body.token);
    const again = await t.api('POST', '/v1/auth/register', {
      body: { email: 'ann@example.test', password: 'another pw 123', name: 'Ann 2' },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'EMAIL_TAKEN');
  });

  test('when the password is wrong or the account unknown, then both are the same 401', async () => {
    const wrong = await t.api('POST', '/v1/auth/login', {
      body: { email: 'ann@example.test', password: 'not the one' },
    });
    const unknown = await t.api('POST', '/v1/auth/login', {
      body: { email: 'nobody@example.test', password: 'whatever' },
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual([wrong.body.code, unknown.body.code], ['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    const right = await t.api('POST', '/v1/auth/login', {
      body: { email: 'ANN@example.test', password: 'long enough pw' },
    });
    assert.equal(right.status, 200);
  });

  test('when a request has no token, a bad token or the wrong role, then 401 or 403 problems', async () => {
    const event = await t.createEvent();
    const [user] = await t.registerUsers(1, 'roles');
    assert.equal(
      (await t.api('POST', `/v1/events/${event.id}/bookings`, { body: { quantity: 1 } })).body.code,
      'UNAUTHENTICATED',
    );
    assert.equal((await book(event.id, 'not-a-jwt', 1)).status, 401);
    const forged = user.token.slice(0, -4) + 'AAAA';
    assert.equal((await book(event.id, forged, 1)).status, 401);
    const asUser = await t.api('POST', '/v1/events', {
      token: user.token,
      body: { name: 'x', venue: 'y', startsAt: event.startsAt, capacity: 1, price: 1 },
    });
    assert.equal(asUser.status, 403);
    assert.equal(asUser.body.code, 'FORBIDDEN');
  });
});

describe('bookings', () => {
  test("when a user asks for another user's booking, then it does not exist for them, but does for an admin", async () => {
    const event = await t.createEvent();
    const [alice, bob] = await t.registerUsers(2, 'authz');
    const booking = (await book(event.id, alice.token, 2)).body;
    assert.equal((await t.api('GET', `/v1/bookings/${booking.id}`, { token: bob.token })).status, 404);
    assert.equal((await t.api('POST', `/v1/bookings/${booking.id}/cancel`, { token: bob.token })).status, 404);
    assert.equal((await t.api('GET', `/v1/bookings/${booking.id}`, { token: alice.token })).body.id, booking.id);
    assert.equal((await t.api('GET', `/v1/bookings/${booking.id}`, { token: t.adminToken })).status, 200);
    const bobs = await t.api('GET', '/v1/bookings', { token: bob.token });
    assert.deepEqual(bobs.body.items, []);
  });

  test('when a booking is cancelled, then its seats return and a second cancel is 409', async () => {
    const event = await t.createEvent({ capacity: 5 });
    const [user] = await t.registerUsers(1, 'cancel');
    const booking = (await book(event.id, user.token, 3)).body;
    assert.equal((await readSeatLedger(t.db, event.id)).available, 2);
    const cancelled = await t.api('POST', `/v1/bookings/${booking.id}/cancel`, { token: user.token });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.ok(cancelled.body.cancelledAt);
    assert.equal((await readSeatLedger(t.db, event.id)).available, 5);
    const twice = await t.api('POST', `/v1/bookings/${booking.id}/cancel`, { token: user.token });
    assert.equal(twice.body.code, 'ALREADY_CANCELLED');
    assert.equal((await book(event.id, user.token, 5)).status, 201, 'the returned seats are on sale again');
  });

  test('when a user goes past maxTicketsPerUser, then LIMIT_EXCEEDED; a quantity above it is VALIDATION_FAILED', async () => {
    const event = await t.createEvent({ maxTicketsPerUser: 3 });
    const [user] = await t.registerUsers(1, 'limit');
    assert.equal((await book(event.id, user.token, 2)).status, 201);
    assert.equal((await book(event.id, user.token, 2)).body.code, 'LIMIT_EXCEEDED');
    assert.equal((await book(event.id, user.token, 4)).body.code, 'VALIDATION_FAILED');
    assert.equal((await book(event.id, user.token, 1)).status, 201);
  });

  test('when the event has started or is cancelled, then EVENT_NOT_BOOKABLE, and cancelling cancels every booking', async () => {
    const [user] = await t.registerUsers(1, 'notbookable');
    const started = await t.createEvent();
    await t.db.query(`UPDATE events SET starts_at = now() - interval '1 hour' WHERE id = $1`, [started.id]);
    assert.equal((await book(started.id, user.token, 1)).body.code, 'EVENT_NOT_BOOKABLE');

    const event = await t.createEvent({ capacity: 10 });
    await book(event.id, user.token, 2);
    const cancelled = await t.api('POST', `/v1/events/${event.id}/cancel`, { token: t.adminToken });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM bookings WHERE event_id = $1 AND status = 'confirmed'`,
      [event.id],
    );
    assert.equal(rows[0].n, 0);
    assert.equal((await book(event.id, user.token, 1)).body.code, 'EVENT_NOT_BOOKABLE');
  });

  test('when an unknown event is booked, then 404', async () => {
    const [user] = await t.registerUsers(1, 'unknown');
    const r = await book('01900000-0000-7000-8000-000000000000', user.token, 1);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'NOT_FOUND');
  });
});

describe('events', () => {
  test('when capacity is edited below the seats sold, then 409; above, available follows', async () => {
    const event = await t.createEvent({ capacity: 10 });
    const [user] = await t.registerUsers(1, 'edit');
    await book(event.id, user.token, 4);
    const below = await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { capacity: 3 } });
    assert.equal(below.body.code, 'CAPACITY_BELOW_SOLD');
    const grown = await t.api('PATCH', `/v1/events/${event.id}`, {
      token: t.adminToken,
      body: { capacity: 20, name: 'Bigger' },
    });
    assert.equal(grown.status, 200);
    assert.equal(grown.body.available, 16);
    assert.equal(grown.body.name, 'Bigger');
    assert.ok(grown.body.version > event.version);
  });

  test('when events are listed page by page, then every match appears once, in start order', async () => {
    const tag = `Pager${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      await t.createEvent({ name: `${tag} ${i}`, startsAt: new Date(Date.now() + (i + 2) * 86_400_000).toISOString() });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.api('GET', `/v1/events?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((e: { name: string }) => e.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      [0, 1, 2, 3, 4].map((i) => `${tag} ${i}`),
    );
  });

  test('when events are filtered by venue, status and start date together, then only the matches come, page by page', async () => {
    const venue = `Hall ${Date.now()}`;
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await t.createEvent({ name: `Venue test ${i}`, venue, startsAt: day(i + 2) })).id);
    await t.createEvent({ name: 'Elsewhere', venue: `${venue} annex`, startsAt: day(3) });
    assert.equal((await t.api('POST', `/v1/events/${ids[3]}/cancel`, { token: t.adminToken })).status, 200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query = `venue=${encodeURIComponent(venue.toUpperCase())}&status=scheduled&from=${encodeURIComponent(day(2.5))}&to=${encodeURIComponent(day(10))}&limit=1`;
      const page: any = await t.api('GET', `/v1/events?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [ids[1], ids[2]], 'same venue (any case), still scheduled, starting in the range');
  });

  test('when a request carries x-request-id, then the reply echoes it; otherwise one is made', async () => {
    const given = await t.api('GET', '/healthz', { headers: { 'x-request-id': 'trace-me-123' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-me-123');
    const made = await t.api('GET', '/healthz');
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('when the OpenAPI document is read, then it describes every route', async () => {
    const doc = await t.api('GET', '/docs/json');
    assert.equal(doc.status, 200);
    for (const path of [
      '/v1/auth/register',
      '/v1/auth/login',
      '/v1/events',
      '/v1/events/{id}',
      '/v1/events/{id}/cancel',
      '/v1/events/{id}/bookings',
      '/v1/bookings',
      '/v1/bookings/{id}',
      '/v1/bookings/{id}/cancel',
      '/healthz',
      '/readyz',
    ]) {
      assert.ok(doc.body.paths[path], `${path} is documented`);
    }
    const ui = await t.api('GET', '/docs/static/index.html');
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
  });
});

describe('the per-user booking lock', () => {
  test("when the same user's lock is held briefly, then the booking waits for it; held past the bound, then BOOKING_IN_PROGRESS", async () => {
    const { Redis } = await import('ioredis');
    const { lockKey } = await import('../../actors/inventory/public.js');
    const redis = new Redis(t.system.config.redisUrl!);
    try {
      const event = await t.createEvent({ capacity: 10 });
      const [user] = await t.registerUsers(1, 'lock');
      await redis.set(lockKey(user.id, event.id), 'someone-else', 'PX', 300);
      const started = Date.now();
      const waited = await book(event.id, user.token, 1);
      assert.equal(waited.status, 201);
      assert.ok(Date.now() - started >= 250, 'it waited for the lock');

      await redis.set(lockKey(user.id, event.id), 'someone-else', 'PX', 60_000);
      const refused = await book(event.id, user.token, 1);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'BOOKING_IN_PROGRESS');
      assert.equal(
        await redis.get(lockKey(user.id, event.id)),
        'someone-else',
        "another holder's lock is never released",
      );
      assert.equal((await readSeatLedger(t.db, event.id)).confirmed, 1);
    } finally {
      redis.disconnect();
    }
  });
});
