// Event reads through the edge caches: hits counted in the metrics, ETag and
// 304, freshness within the stated TTL bound with no domain event at all,
// and at once when a domain event about the event arrives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import { register } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { domainSubject, shardOf, type DomainEventOf } from '../../protocol/index.js';
import { withOverrides } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { startEdge, type Edge } from '../server.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

let t: TestSystem;
/** An edge whose caches would keep an entry for a minute: only an invalidation can freshen it. */
let longLived: Edge;
let bound: number;
before(async () => {
  t = await startTestSystem();
  bound = t.system.config.cacheL1TtlMs + t.system.config.cacheL2TtlMs;
  longLived = await startEdge(
    withOverrides(t.system.config, { httpPort: 0, cacheL1TtlMs: 60_000, cacheL2TtlMs: 60_000 }),
    createLogger('error'),
  );
});
after(async () => {
  await longLived?.stop();
  await t?.stop();
});

async function lookups(tier: string, result: string): Promise<number> {
  const metric = await register.getSingleMetric('evently_edge_event_cache_lookups_total')!.get();
  return metric.values.find((v) => v.labels.tier === tier && v.labels.result === result)?.value ?? 0;
}

const read = async (base: string, id: string) => {
  const res = await fetch(`${base}/v1/events/${id}`);
  return {
    status: res.status,
    etag: res.headers.get('etag'),
    body: (await res.json()) as { available: number; version: number },
  };
};

let buyers = 0;
async function bookOne(eventId: string): Promise<void> {
  const [user] = await t.registerUsers(1, `cache-${++buyers}`);
  const r = await t.api('POST', `/v1/events/${eventId}/bookings`, { token: user.token, body: { quantity: 1 } });
  assert.equal(r.status, 201);
}

test('when an event is read twice, then the second read is an L1 hit with the same ETag, and If-None-Match gets 304', async () => {
  const event = await t.createEvent({ capacity: 10 });
  const hitsBefore = await lookups('l1', 'hit');
  const first = await read(t.url, event.id);
  const second = await read(t.url, event.id);
  assert.deepEqual(second, first);
  assert.match(first.etag ?? '', /^"[A-Za-z0-9_-]{27}"$/);
  assert.equal(await lookups('l1', 'hit'), hitsBefore + 1);
  const conditional = await fetch(`${t.url}/v1/events/${event.id}`, { headers: { 'if-none-match': first.etag! } });
  assert.equal(conditional.status, 304);
  assert.equal(await conditional.text(), '');
  assert.equal(
    (await fetch(`${t.url}/v1/events/${event.id}`, { headers: { 'if-none-match': '"other"' } })).status,
    200,
  );
});

test('when another edge has read an event, then this edge finds it in L2', async () => {
  const event = await t.createEvent();
  await read(longLived.url, event.id);
  const l2Before = await lookups('l2', 'hit');
  assert.equal((await read(t.url, event.id)).status, 200);
  assert.equal(await lookups('l2', 'hit'), l2Before + 1);
});

test('when a booking changes an event and no domain event arrives, then reads show it within the stated bound', async () => {
  const event = await t.createEvent({ capacity: 10 });
  await read(t.url, event.id);
  await bookOne(event.id);
  // The entry was cached before `changed`, so a read that starts `bound` after it must be fresh. Judged by
  // when each read started, not when it ended: on a loaded machine a read alone can take longer than the bound.
  const changed = Date.now();
  for (;;) {
    const started = Date.now();
    const { body, etag } = await read(t.url, event.id);
    if (body.available === 9) {
      assert.notEqual(etag, null);
      break;
    }
    const late = started - changed;
    assert.ok(late <= bound + 50, `a read started ${late} ms after the change was stale; bound ${bound} ms`);
    await sleep(25);
  }
});

test('when a domain event about an event arrives, then an edge with minute-long TTLs serves the change at once', async () => {
  const event = await t.createEvent({ capacity: 10 });
  const cached = await read(longLived.url, event.id);
  await bookOne(event.id);
  const {
    rows: [row],
  } = await t.db.query('SELECT version, available, held, capacity, price, status FROM events WHERE id = $1', [
    event.id,
  ]);
  const envelope: DomainEventOf<'event.updated'> = {
    id: uuidv7(),
    type: 'event.updated',
    eventId: event.id,
    version: row.version,
    occurredAt: new Date().toISOString(),
    requestId: 'cache-test',
    availability: {
      available: row.available,
      held: row.held,
      capacity: row.capacity,
      price: row.price,
      status: row.status,
    },
    data: event,
  };
  const nc = await connect(natsOptions(t.system.config, 'supervisor'));
  try {
    nc.publish(domainSubject('event.updated', shardOf(event.id, t.system.config.shards)), JSON.stringify(envelope));
    await nc.flush();
  } finally {
    await nc.close();
  }
  // Well before the minute-long TTLs, generous for a loaded machine: only the invalidation can explain it.
  const published = Date.now();
  let fresh = await read(longLived.url, event.id);
  while (fresh.body.available !== 9 && Date.now() - published < 20_000) {
    await sleep(10);
    fresh = await read(longLived.url, event.id);
  }
  assert.equal(fresh.body.available, 9, 'the invalidation reached the long-lived edge');
  assert.notEqual(fresh.etag, cached.etag);
  assert.equal(fresh.body.version, row.version);
});
