// A booking batch is one domain message, and every consumer applies it once:
// after its thread dies mid-run, after the whole stream is delivered again,
// and with each event's versions in order across messages. Checked against
// the bookings table, which is the truth the consumers' tables must match.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import {
  DOMAIN_STREAM,
  domainShardFilter,
  readDomainMessage,
  shardOf,
  type DomainMessage,
} from '../../protocol/index.js';
import { natsOptions } from '../../platform/nats-connect.js';
import { eventuallyValue } from '../../ops/testing/eventually.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

let t: TestSystem;
let nc: NatsConnection;
before(async () => {
  // Background runs wait long for the booking path, so the consumers hold delivered, unapplied messages mid-sale.
  t = await startTestSystem({ backgroundYieldMs: 3000 });
  nc = await connect(natsOptions(t.system.config, 'supervisor'));
});
after(async () => {
  await nc?.close();
  await t?.stop();
});

/** The stream's messages on the event's shard that carry the event, with their subjects, in stream order. */
async function messagesOf(eventId: string): Promise<{ subject: string; message: DomainMessage }[]> {
  const consumer = await nc
    .jetstream()
    .consumers.get(DOMAIN_STREAM, { filterSubjects: domainShardFilter(shardOf(eventId, t.system.config.shards)) });
  const out: { subject: string; message: DomainMessage }[] = [];
  for (let left = (await consumer.info()).num_pending; left > 0;) {
    for await (const m of await consumer.fetch({ max_messages: Math.min(left, 256), expires: 5000 })) {
      const message = readDomainMessage(m.json());
      if (message?.events.some((e) => e.eventId === eventId)) out.push({ subject: m.subject, message });
      left--;
    }
  }
  return out;
}

interface Counts {
  sql: number;
  bookings: number;
  analytics: number;
  pricing: number;
  mails: number;
}

async function counts(eventId: string): Promise<Counts> {
  const q = async (sql: string) => (await t.db.query<{ n: number }>(sql, [eventId])).rows[0]?.n ?? 0;
  return {
    sql: await q(
      `SELECT coalesce(sum(quantity), 0)::int AS n FROM bookings WHERE event_id = $1 AND status = 'confirmed'`,
    ),
    bookings: await q(`SELECT count(*)::int AS n FROM bookings WHERE event_id = $1`),
    analytics: await q('SELECT coalesce((SELECT tickets FROM analytics_events WHERE event_id = $1), 0) AS n'),
    pricing: await q(`SELECT (coalesce((SELECT sum(tickets) FROM pricing_sales WHERE event_id = $1), 0)
                             + coalesce((SELECT sold_before FROM pricing_events WHERE event_id = $1), 0))::int AS n`),
    mails: await q(
      `SELECT count(*)::int AS n FROM mail_deliveries WHERE event_id = $1 AND template = 'booking-confirmed'`,
    ),
  };
}

const settled = (c: Counts) => c.analytics === c.sql && c.pricing === c.sql && c.mails === c.bookings;

/** Consumers with messages not yet acknowledged, and how many. */
async function lagging(): Promise<string[]> {
  const out: string[] = [];
  for await (const c of (await nc.jetstreamManager()).consumers.list(DOMAIN_STREAM)) {
    // Durable consumers only: this test's own ordered readers are ephemeral and never acknowledge.
    if (c.config.durable_name && c.num_pending + c.num_ack_pending > 0)
      out.push(`${c.name}: ${c.num_pending} + ${c.num_ack_pending}`);
  }
  return out;
}

test('when consumer threads die mid-sale and then every message comes again, then each consumer has applied each booking exactly once, in version order', async () => {
  const event = await t.createEvent({ capacity: 1000, maxTicketsPerUser: 10 });
  const users = await t.registerUsers(120, 'batches');
  const shard = shardOf(event.id, t.system.config.shards);
  const { pools } = t.system.supervisor;

  const sale = Promise.all(
    users.map((u, i) =>
      t.api('POST', `/v1/events/${event.id}/bookings`, { token: u.token, body: { quantity: 1 + (i % 2) } }),
    ),
  );
  // While bookings are in flight the background holds what it was handed: kill it there.
  await eventuallyValue(
    'the first bookings committed',
    async () => ((await counts(event.id)).bookings > 0 ? true : undefined),
    60_000,
  );
  const crashed = [pools.mailer, pools.analytics, pools.pricing].map((p) => p.crashShardOwner(shard));
  const replies = await sale;
  assert.ok(
    crashed.every((id) => id !== undefined),
    'a thread of each background pool was killed',
  );
  assert.ok(
    replies.every((r) => r.status === 201),
    `every booking confirmed: ${replies.map((r) => r.status).join(',')}`,
  );

  const first = await eventuallyValue(
    'every consumer to count every booking once',
    async () => {
      const c = await counts(event.id);
      return settled(c) ? c : undefined;
    },
    120_000,
  );
  assert.equal(first.sql, 180, '120 bookings of 1 or 2 seats');

  const stream = await messagesOf(event.id);
  const bookingMessages = stream.filter((s) => s.message.events[0]?.type === 'booking.confirmed');
  assert.ok(
    bookingMessages.some((s) => s.message.events.length > 1),
    'bookings travelled in batches',
  );
  assert.equal(
    bookingMessages.reduce((n, s) => n + s.message.events.length, 0),
    120,
    'each booking in exactly one message',
  );
  // A change's messages carry the version it made; an analytics alert carries the version it observed
  // (a sale straddling a minute can raise a velocity spike), so it follows that change in the stream.
  const isChange = (m: DomainMessage) => m.events[0]?.type !== 'analytics.alert';
  const versionOf = (m: DomainMessage) => {
    const vs = new Set(m.events.map((e) => e.version));
    assert.equal(vs.size, 1, 'one transaction, one version');
    return [...vs][0]!;
  };
  const versions = stream.filter((s) => isChange(s.message)).map((s) => versionOf(s.message));
  assert.deepEqual(
    versions,
    [...versions].sort((a, b) => a - b),
    'versions never go back across messages',
  );
  assert.equal(new Set(versions).size, versions.length, 'each message is its own transaction');
  let announced = 0;
  for (const { message } of stream) {
    if (isChange(message)) announced = versionOf(message);
    else assert.ok(versionOf(message) <= announced, 'an alert follows the change it observed');
  }

  // Every message again, under new stream ids: a redelivery the stream itself cannot recognise.
  for (const { subject, message } of stream)
    await nc.jetstream().publish(subject, JSON.stringify(message), { msgID: randomUUID() });
  let behind: string[] = [];
  await eventuallyValue(
    'the consumers to read the copies',
    async () => ((behind = await lagging()).length === 0 ? true : undefined),
    120_000,
  ).catch((err: Error) => assert.fail(`${err.message}; behind: ${behind.join('; ')}`));
  assert.deepEqual(await counts(event.id), first, 'nothing applied twice');
});
