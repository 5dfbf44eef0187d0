// Analytics end to end: after a scripted sale (bookings, cancellations,
// waitlist offers and a confirmation) the admin API's figures equal figures
// computed straight from the bookings tables; rebuilding from the tables or
// from the stream, even while bookings go on, gives the same numbers; the
// daily report agrees; only admins may read any of it; a scripted stream
// raises exactly one alert of each anomaly kind.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from 'nats';
import { natsOptions } from '../../../platform/nats-connect.js';
import { v7 as uuidv7 } from 'uuid';
import {
  domainSubject,
  readDomainMessage,
  shardOf,
  type Booking,
  type DomainEventType,
  type EventAnalytics,
} from '../../../protocol/index.js';
import { expectedDay, expectedFigures, expectedTotals } from './analytics-expected.js';
import { eventually } from '../../../ops/testing/eventually.js';
import { startTestSystem, type TestSystem } from '../../../ops/testing/harness.js';

describe('analytics', () => {
  let t: TestSystem;
  const events: string[] = [];
  before(async () => {
    t = await startTestSystem({ analyticsTickMs: 500 });
  });
  after(async () => {
    await t?.stop();
  });

  const book = (token: string, eventId: string, quantity: number) =>
    t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity } });
  const cancel = (token: string, bookingId: string) => t.api('POST', `/v1/bookings/${bookingId}/cancel`, { token });

  /** Every figure the API shows equals the same figure computed from the tables at the answer's own instant. */
  const figuresMatchTables = async () => {
    for (const id of events) {
      const r = await t.api<EventAnalytics>('GET', `/v1/admin/analytics/events/${id}`, { token: t.adminToken });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.figures, await expectedFigures(t.db, id, r.body.generatedAt), `event ${id}`);
      const today = r.body.generatedAt.slice(0, 10);
      assert.deepEqual(r.body.daily.at(-1), await expectedDay(t.db, today, id));
    }
    const s = await t.api('GET', '/v1/admin/analytics/summary', { token: t.adminToken });
    assert.equal(s.status, 200);
    assert.deepEqual(s.body.totals, await expectedTotals(t.db, s.body.generatedAt));
    assert.equal(s.body.daily.length, 30);
    assert.deepEqual(s.body.daily.at(-1), await expectedDay(t.db, s.body.generatedAt.slice(0, 10)));
    const tickets = s.body.topEvents.map((e: { tickets: number }) => e.tickets);
    assert.deepEqual(
      tickets,
      [...tickets].sort((a, b) => b - a),
      'top events by tickets',
    );
  };

  test('when a sale with cancellations, waitlist offers and a confirmation has run, then the API figures equal the figures computed from the tables', async () => {
    const [u1, u2, u3, w1, w2, w3] = await t.registerUsers(6, 'analytics');
    const hot = await t.createEvent({ capacity: 10, maxTicketsPerUser: 4, price: 2500 });
    const calm = await t.createEvent({ capacity: 100, price: 1200 });
    const empty = await t.createEvent({ capacity: 50 });
    events.push(hot.id, calm.id, empty.id);

    const first = await book(u1.token, hot.id, 3);
    assert.equal(first.status, 201);
    assert.equal((await book(u2.token, hot.id, 4)).status, 201);
    assert.equal((await book(u3.token, hot.id, 3)).status, 201);
    for (const [who, quantity] of [
      [w1, 2],
      [w2, 1],
      [w3, 3],
    ] as const) {
      assert.equal(
        (await t.api('POST', `/v1/events/${hot.id}/waitlist`, { token: who.token, body: { quantity } })).status,
        201,
      );
    }
    // Three seats back: offered to the first two in line (2 + 1); the party of three waits.
    assert.equal((await cancel(u1.token, first.body.id)).status, 200);
    let holdId = '';
    await eventually(async () => {
      const mine = await t.api('GET', `/v1/events/${hot.id}/waitlist/me`, { token: w1.token });
      assert.equal(mine.body.status, 'offered');
      holdId = mine.body.offer.holdId;
    });
    assert.equal((await t.api('POST', `/v1/holds/${holdId}/confirm`, { token: w1.token })).status, 201);

    const calmBooking = await book(u2.token, calm.id, 2);
    assert.equal((await book(u3.token, calm.id, 5)).status, 201);
    assert.equal((await cancel(u2.token, calmBooking.body.id)).status, 200);

    await eventually(figuresMatchTables);
    const hotFigures = (
      await t.api<EventAnalytics>('GET', `/v1/admin/analytics/events/${hot.id}`, { token: t.adminToken })
    ).body.figures;
    // The script's own arithmetic, so a shared mistake in the two SQL versions cannot hide.
    assert.deepEqual(
      [
        hotFigures.bookings,
        hotFigures.tickets,
        hotFigures.cancellations,
        hotFigures.revenue,
        hotFigures.waitlistLength,
        hotFigures.waitlistConversion,
      ],
      [3, 9, 1, 9 * 2500, 2, 0.5],
    );
    assert.equal(hotFigures.cancellationRate, 0.25);
    assert.equal(hotFigures.utilization, 0.9);
  });

  test('when the roll-ups are rebuilt from the tables and from the stream, then every figure is the same as live', async () => {
    for (const source of ['bookings', 'stream'] as const) {
      const r = await t.api('POST', '/v1/admin/analytics/rebuild', { token: t.adminToken, body: { source } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.source, source);
      assert.ok(r.body.applied > 0);
      if (source === 'stream') assert.equal(r.body.firstSequence, 1);
      await figuresMatchTables();
    }
  });

  test('when rebuilds run while bookings and cancellations go on, then nothing is counted twice or lost', async () => {
    const buyers = await t.registerUsers(24, 'rebuild-race');
    const busy = await t.createEvent({ capacity: 500, maxTicketsPerUser: 10 });
    events.push(busy.id);
    const sales = Promise.all(
      buyers.map(async (u, i) => {
        const r = await book(u.token, busy.id, 1 + (i % 3));
        if (i % 4 === 0) await cancel(u.token, r.body.id);
      }),
    );
    const rebuilds = Promise.all(
      ['bookings', 'stream', 'bookings'].map((source) =>
        t.api('POST', '/v1/admin/analytics/rebuild', { token: t.adminToken, body: { source } }),
      ),
    );
    await sales;
    assert.deepEqual(
      (await rebuilds).map((r) => r.status),
      [200, 200, 200],
    );
    await eventually(figuresMatchTables);
  });

  test("when the daily report of today is asked for, then its day equals the tables' and its top events are today's busiest", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const r = await t.api('GET', `/v1/admin/analytics/reports/daily?day=${today}`, { token: t.adminToken });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.day, await expectedDay(t.db, today));
    assert.ok(r.body.topEvents.length > 0);
    const first = r.body.topEvents[0];
    const { day: _day, ...sameDay } = await expectedDay(t.db, today, first.eventId);
    assert.deepEqual(first, { eventId: first.eventId, name: first.name, ...sameDay });
    assert.deepEqual(r.body.totals, await expectedTotals(t.db, r.body.generatedAt));
  });

  test('when a user or nobody asks for analytics, then it is 403 or 401 as problem+json', async () => {
    const [user] = await t.registerUsers(1, 'not-admin');
    const id = events[0];
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/admin/analytics/summary'],
      ['GET', `/v1/admin/analytics/events/${id}`],
      ['GET', `/v1/admin/analytics/events/${id}/bookings.csv`],
      ['GET', '/v1/admin/analytics/reports/daily?day=2026-11-24'],
      ['POST', '/v1/admin/analytics/rebuild', { source: 'bookings' }],
    ];
    for (const [method, path, body] of routes) {
      const forbidden = await t.api(method, path, { token: user.token, body });
      assert.equal(forbidden.status, 403, `${method} ${path}`);
      assert.equal(forbidden.body.code, 'FORBIDDEN');
      assert.match(forbidden.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal((await t.api(method, path, { body })).status, 401, `${method} ${path} anonymous`);
    }
    const missing = await t.api('GET', '/v1/admin/analytics/events/01937a4c-1f00-7000-8000-000000000000', {
      token: t.adminToken,
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
  });

  // Last: its bookings exist only in the stream, so the tables' figures no longer cover every event after it.
  test('when a scripted stream spikes, bursts with cancellations and then stops selling, then exactly one alert of each kind is raised and announced', async () => {
    const event = await t.createEvent({ capacity: 10_000, maxTicketsPerUser: 10_000 });
    const nc = await connect(natsOptions(t.system.config, 'supervisor'));
    const announced: string[] = [];
    const alerts = nc.subscribe(domainSubject('analytics.alert', shardOf(event.id, t.system.config.shards)), {
      callback: (_err, m) => {
        for (const e of readDomainMessage(m.json())?.events ?? [])
          if (e.type === 'analytics.alert') announced.push(e.data.kind);
      },
    });
    const js = nc.jetstream();
    const publish = (type: DomainEventType, data: Booking, at: string) => {
      const envelope = {
        id: uuidv7(),
        type,
        eventId: event.id,
        version: 1,
        occurredAt: at,
        requestId: 'anomaly-script',
        data,
        availability: { available: 5_000, held: 0, capacity: 10_000, price: 2500, status: 'scheduled' },
      };
      return js.publish(domainSubject(type, shardOf(event.id, t.system.config.shards)), JSON.stringify(envelope), {
        msgID: envelope.id,
      });
    };
    const base = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
    const at = (minute: number, second = 0) => new Date(base + minute * 60_000 + second * 1000).toISOString();
    const sold: Booking[] = [];
    const sell = async (minute: number, quantity: number, second = 0) => {
      const b: Booking = {
        id: uuidv7(),
        eventId: event.id,
        userId: uuidv7(),
        quantity,
        unitPrice: 2500,
        totalPrice: 2500 * quantity,
        currency: 'EUR',
        status: 'confirmed',
        createdAt: at(minute, second),
        cancelledAt: null,
      };
      sold.push(b);
      await publish('booking.confirmed', b, b.createdAt);
    };
    // 30 minutes at 2 tickets a minute, 3 minutes at 30 (one spike episode), 7 more at 2, then nothing.
    for (let m = 0; m < 40; m += 1) {
      if (m >= 30 && m < 33) await sell(m, 30, 5);
      else for (const second of [5, 35]) await sell(m, 1, second);
    }
    // 8 cancellations in minute 40 and 6 in minute 41 against none before: one burst episode.
    for (const [i, b] of sold.slice(0, 14).entries()) {
      const cancelledAt = at(i < 8 ? 40 : 41, i);
      await publish('booking.cancelled', { ...b, status: 'cancelled', cancelledAt }, cancelledAt);
    }
    try {
      const kinds = async () =>
        (
          await t.api<EventAnalytics>('GET', `/v1/admin/analytics/events/${event.id}`, { token: t.adminToken })
        ).body.alerts
          .map((a) => a.kind)
          .sort();
      await eventually(
        async () => assert.deepEqual(await kinds(), ['cancellation-burst', 'stalled-sale', 'velocity-spike']),
        60_000,
      );
      // Several more stall checks later: still one of each.
      await new Promise((r) => setTimeout(r, 3_000));
      assert.deepEqual(await kinds(), ['cancellation-burst', 'stalled-sale', 'velocity-spike']);
      await eventually(async () =>
        assert.deepEqual([...announced].sort(), ['cancellation-burst', 'stalled-sale', 'velocity-spike']),
      );
      const spike = (
        await t.api<EventAnalytics>('GET', `/v1/admin/analytics/events/${event.id}`, { token: t.adminToken })
      ).body.alerts.find((a) => a.kind === 'velocity-spike');
      assert.deepEqual([spike?.observed, spike?.baseline, spike?.raisedAt], [30, 2, at(30, 5)]);
    } finally {
      alerts.unsubscribe();
      await nc.close();
    }
  });
});
