// Pricing end to end: a rush through the API moves a dynamic price up within
// its bounds, one step per interval at most, through a restart of the
// pricing pool; the domain stream read back from JetStream and replayed
// through the model gives exactly the recorded prices; a fixed price stays;
// bookings are charged the price in force when they commit; bad policies and
// non-admins get problems; admins page through the history.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { natsOptions } from '../../../platform/nats-connect.js';
import {
  DOMAIN_STREAM,
  domainShardFilter,
  readDomainMessage,
  shardOf,
  type DomainEvent,
} from '../../../protocol/index.js';
import { applyEvent, boundariesDue, emptyHistory, evaluate } from '../demand.js';
import { writePrice } from '../price-change.js';
import { lockEvent } from '../../../platform/event-row.js';
import { policyOf } from '../model.js';
import { boundaryAtOrBefore, type PolicyRow } from '../../../platform/pricing-policy.js';
import { startTestSystem, type TestSystem } from '../../../ops/testing/harness.js';
import { isAvailability, LiveTestClient } from '../../../ops/testing/live-client.js';
import { eventuallyValue as eventually } from '../../../ops/testing/eventually.js';

/** Every domain event of one event, in stream order, read back from JetStream. */
async function streamOf(nc: NatsConnection, shards: number, eventId: string): Promise<DomainEvent[]> {
  const consumer = await nc
    .jetstream()
    .consumers.get(DOMAIN_STREAM, { filterSubjects: domainShardFilter(shardOf(eventId, shards)) });
  const out: DomainEvent[] = [];
  for await (const m of await consumer.fetch({ max_messages: 100_000, expires: 60_000 })) {
    for (const event of readDomainMessage(m.json())?.events ?? []) if (event.eventId === eventId) out.push(event);
    if (m.info.pending === 0) break;
  }
  return out;
}

describe('pricing', () => {
  let t: TestSystem;
  let nc: NatsConnection;
  before(async () => {
    // One-second boundaries and short windows so a rush shows in seconds. A boundary is weighed once the
    // pricing consumer has applied what occurred by it (the watermark), however far a loaded machine
    // puts it behind; the settle time only covers bookings whose transaction was still open at it.
    t = await startTestSystem({ pricingShortWindowSeconds: 5, pricingLongWindowSeconds: 30, pricingSettleMs: 2000 });
    nc = await connect(natsOptions(t.system.config, 'supervisor'));
  });
  after(async () => {
    await nc?.close();
    await t?.stop();
  });

  const book = (token: string, eventId: string, quantity = 1) =>
    t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity } });
  const price = (eventId: string) => t.api('GET', `/v1/events/${eventId}/price`);
  const setPricing = (eventId: string, body: unknown, token = t.adminToken) =>
    t.api('PUT', `/v1/events/${eventId}/pricing`, { token, body });
  const history = async (eventId: string) =>
    (
      await t.db.query<{ at: Date; price: number; previous: number; reason: string; strategy: string }>(
        'SELECT at, price, previous, reason, strategy FROM price_history WHERE event_id = $1 ORDER BY id',
        [eventId],
      )
    ).rows;

  test('when a rush books a dynamically priced event, then the price rises within [floor, ceiling], one step per interval at most, and a replay of the stream gives the same prices, also when demand is recorded late', async () => {
    const users = await t.registerUsers(60, 'rush');
    const pricing = { strategy: 'dynamic', floor: 2000, ceiling: 3000, maxStep: 100, intervalSeconds: 1 };
    const event = await t.createEvent({ capacity: 300, price: 2500, maxTicketsPerUser: 4, pricing });
    assert.equal((await price(event.id)).body.strategy, 'dynamic');

    // About 40 bookings a second for six seconds, with the pricing pool restarted in the middle.
    const rush = (async () => {
      for (let wave = 0; wave < 60; wave++) {
        await Promise.all(users.slice((wave * 4) % 60, ((wave * 4) % 60) + 4).map((u) => book(u.token, event.id)));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Early in the rush the consumers fall four seconds behind, longer than the settle time, as on a
    // starved machine (here the table where they record what they applied is locked, which pricing's
    // evaluation does not touch): the boundaries of those seconds must wait for the bookings that
    // occurred by them, or the replay below differs. Then a restart.
    await new Promise((r) => setTimeout(r, 300));
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('LOCK TABLE consumed_events IN SHARE MODE');
      await new Promise((r) => setTimeout(r, 4000));
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    assert.equal((await t.system.supervisor.control.restart('pricing')).ok, true);
    await rush;
    const high = await eventually('the price to rise by three steps', async () => {
      const asked = Date.now();
      const r = await price(event.id);
      return r.body.price >= 2800 ? { ...r.body, asked } : undefined;
    });
    assert.match(high.reason, /^demand high: /);
    assert.ok(Date.parse(high.validUntil) >= high.asked, 'a quote never promises a time already past');

    const {
      rows: [policy],
    } = await t.db.query<PolicyRow>('SELECT * FROM event_pricing WHERE event_id = $1', [event.id]);
    assert.ok(policy, "the event's pricing policy");
    const changes = (await history(event.id)).filter((h) => h.at <= policy.last_tick);
    assert.ok(changes.length >= 3);
    let previous = 2500;
    let lastAt = 0;
    for (const c of changes) {
      assert.equal(c.previous, previous, 'each change starts from the price before it');
      assert.ok(c.price >= 2000 && c.price <= 3000, `${c.price} within [floor, ceiling]`);
      assert.ok(Math.abs(c.price - c.previous) <= 100, `${c.previous} → ${c.price} is one step at most`);
      assert.ok(c.at.getTime() > lastAt, 'one change per boundary');
      assert.equal(c.at.getTime() % 1000, 0, 'changes belong to interval boundaries');
      previous = c.price;
      lastAt = c.at.getTime();
    }

    const replayed = emptyHistory();
    for (const e of await streamOf(nc, t.system.config.shards, event.id)) applyEvent(replayed, e);
    const boundaries = boundariesDue(
      boundaryAtOrBefore(Date.parse(event.createdAt), 1),
      1,
      policy.last_tick.getTime(),
      100_000,
    );
    const steps = evaluate(policyOf(policy), replayed, boundaries, 2500).filter((s) => s.price !== s.previous);
    assert.deepEqual(
      steps.map((s) => ({
        at: new Date(s.at),
        price: s.price,
        previous: s.previous,
        reason: s.reason,
        strategy: 'dynamic',
      })),
      changes,
    );
  });

  test('when an event is priced fixed, then bookings do not move its price and an admin edit does', async () => {
    const [user] = await t.registerUsers(1, 'fixed');
    const event = await t.createEvent({
      capacity: 50,
      price: 2500,
      pricing: { strategy: 'fixed', intervalSeconds: 1 },
    });
    for (let i = 0; i < 4; i++) assert.equal((await book(user.token, event.id)).status, 201);
    await new Promise((r) => setTimeout(r, 3500));
    assert.deepEqual((await price(event.id)).body, {
      price: 2500,
      currency: 'EUR',
      basePrice: 2500,
      strategy: 'fixed',
      reason: 'fixed price',
      validUntil: null,
    });
    assert.equal(
      (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { price: 2700 } })).status,
      200,
    );
    assert.equal((await price(event.id)).body.price, 2700);
    assert.equal((await book(user.token, event.id)).body.unitPrice, 2700);
    assert.deepEqual(await history(event.id), []);
  });

  test('when the price changes, then a booking committed before it keeps the old unitPrice, one after gets the new, and watchers see it', async () => {
    const [a, b, c] = await t.registerUsers(3, 'charged');
    const event = await t.createEvent({ capacity: 50, price: 2500 });
    const live = await LiveTestClient.open(t.url);
    await live.subscribe([event.id]);
    assert.equal((await book(a.token, event.id)).body.unitPrice, 2500);

    const set = await setPricing(event.id, { strategy: 'fixed', basePrice: 3200 });
    assert.equal(set.status, 200);
    assert.equal(set.body.price, 3200);
    await live.next(
      isAvailability(event.id, (m) => m.price === 3200),
      'the new price on the socket',
    );
    live.close();
    assert.equal((await book(b.token, event.id)).body.unitPrice, 3200);
    assert.equal((await t.api('GET', `/v1/events/${event.id}`)).body.price, 3200);

    // A booking waiting for the row lock while a price change holds it is charged the new price.
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      const row = await lockEvent(client, event.id);
      assert.ok(row);
      const waiting = book(c.token, event.id);
      await eventually('the booking to wait for the row lock', async () => {
        const {
          rows: [w],
        } = await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`,
        );
        return (w?.n ?? 0) > 0 ? true : undefined;
      });
      await writePrice(
        client,
        t.system.config.shards,
        row,
        [{ at: new Date(), price: 3500, previous: 3200, reason: 'test' }],
        'fixed',
        'test',
      );
      await client.query('COMMIT');
      assert.equal((await waiting).body.unitPrice, 3500);
    } finally {
      client.release();
    }
    const stored = await t.db.query<{ unit_price: number }>(
      'SELECT unit_price FROM bookings WHERE event_id = $1 ORDER BY id',
      [event.id],
    );
    assert.deepEqual(
      stored.rows.map((r) => r.unit_price),
      [2500, 3200, 3500],
    );
  });

  test('when a policy is not valid or the caller is not an admin, then the answer is a problem and nothing changes', async () => {
    const [user] = await t.registerUsers(1, 'bad-pricing');
    const event = await t.createEvent({ price: 2500 });
    const cases: [unknown, number, string][] = [
      [{ strategy: 'dynamic', floor: 3000, ceiling: 2000 }, 400, 'PRICE_RANGE_INVALID'],
      [{ strategy: 'dynamic', floor: 2000 }, 400, 'PRICE_RANGE_INVALID'],
      [{ strategy: 'dynamic', floor: 3000, ceiling: 4000 }, 400, 'PRICE_RANGE_INVALID'],
      [{ strategy: 'dynamic', floor: 2000, ceiling: 3000, maxStep: 0 }, 400, 'VALIDATION_FAILED'],
      [{ strategy: 'surge' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await setPricing(event.id, body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.body.code, code, JSON.stringify(body));
      assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    assert.equal((await setPricing(event.id, { strategy: 'fixed' }, user.token)).body.code, 'FORBIDDEN');
    assert.equal(
      (await t.api('PUT', `/v1/events/${event.id}/pricing`, { body: { strategy: 'fixed' } })).body.code,
      'UNAUTHENTICATED',
    );
    assert.equal(
      (await setPricing('01937a4c-1f00-7000-8000-00000000dead', { strategy: 'fixed' })).body.code,
      'NOT_FOUND',
    );
    assert.equal(
      (await t.api('GET', `/v1/events/${event.id}/price/history`, { token: user.token })).body.code,
      'FORBIDDEN',
    );
    const created = await t.api('POST', '/v1/events', {
      token: t.adminToken,
      body: {
        name: 'Bad',
        venue: 'Hall',
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        capacity: 10,
        price: 1000,
        pricing: { strategy: 'dynamic', floor: 2000, ceiling: 3000 },
      },
    });
    assert.equal(created.body.code, 'PRICE_RANGE_INVALID');
    assert.match(created.body.detail, /base price 10\.00 is outside \[20\.00, 30\.00\]/);
    assert.equal((await price(event.id)).body.strategy, 'fixed');

    // Once dynamic, the price is the policy's to set.
    assert.equal(
      (await setPricing(event.id, { strategy: 'dynamic', floor: 2000, ceiling: 3000, intervalSeconds: 3600 })).status,
      200,
    );
    const edit = await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { price: 2600 } });
    assert.equal(edit.status, 409);
    assert.equal(edit.body.code, 'PRICE_IS_DYNAMIC');
    assert.equal(
      (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { name: 'Renamed' } })).status,
      200,
    );
  });

  test('when an admin reads the price history, then it pages newest first through every change', async () => {
    const event = await t.createEvent({ price: 2500 });
    for (const basePrice of [2600, 2700, 2800, 2900, 3000])
      assert.equal((await setPricing(event.id, { strategy: 'fixed', basePrice })).status, 200);
    const seen: { price: number; previous: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        body: { items: { price: number; previous: number }[]; nextCursor: string | null };
      } = await t.api('GET', `/v1/events/${event.id}/price/history?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: t.adminToken,
      });
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map(({ price: p, previous }) => ({ price: p, previous })));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen.map((s) => s.price),
      [3000, 2900, 2800, 2700, 2600],
    );
    assert.deepEqual(
      seen.map((s) => s.previous),
      [2900, 2800, 2700, 2600, 2500],
    );
    assert.equal(
      (await t.api('GET', `/v1/events/${event.id}/price/history?cursor=bm9wZQ`, { token: t.adminToken })).body.code,
      'VALIDATION_FAILED',
    );
  });
});
