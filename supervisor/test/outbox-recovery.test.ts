// The publish-after-commit path: a process killed between its commit and the
// publish of the change's domain events loses nothing, and nothing arrives
// twice. The killed process is real (a child running the inventory's own
// booking code); the relay that finishes its work is the running system's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import {
  DOMAIN_STREAM,
  domainShardFilter,
  domainSubject,
  readDomainMessage,
  shardOf,
  type DomainEvent,
} from '../../protocol/index.js';
import { readSeatLedger } from '../../actors/inventory/public.js';
import { durableName } from '../../platform/domain-stream.js';
import { CONSUMER } from '../../actors/waitlist/public.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

let t: TestSystem;
let nc: NatsConnection;
before(async () => {
  t = await startTestSystem();
  nc = await connect(natsOptions(t.system.config, 'supervisor'));
});
after(async () => {
  await nc?.close();
  await t?.stop();
});

function commitThenDie(eventId: string, userId: string, mode: 'commit-then-die' | 'publish-then-die'): Promise<string> {
  const child = spawn(process.execPath, [new URL('./fixtures/commit-then-die.js', import.meta.url).pathname], {
    env: {
      DATABASE_URL: t.system.config.databaseUrl,
      NATS_URL: t.system.config.natsUrl,
      NATS_PASSWORD: t.system.config.natsActorsPassword,
      EVENT_ID: eventId,
      USER_ID: userId,
      SHARDS: String(t.system.config.shards),
      MODE: mode,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' && out.trim()
        ? resolve(out.trim())
        : reject(new Error(`child ended with ${code ?? signal}, printed "${out}"`)),
    ),
  );
}

/** Every domain event the stream holds for one shard. */
async function streamOf(shard: number): Promise<DomainEvent[]> {
  const consumer = await nc.jetstream().consumers.get(DOMAIN_STREAM, { filterSubjects: domainShardFilter(shard) });
  const events: DomainEvent[] = [];
  const info = await consumer.info();
  let left = info.num_pending;
  while (left > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(left, 256), expires: 2000 });
    for await (const m of batch) {
      events.push(...(readDomainMessage(m.json())?.events ?? []));
      left--;
    }
  }
  return events;
}

const confirmationsOf = (events: DomainEvent[], bookingId: string) =>
  events.filter((e) => e.type === 'booking.confirmed' && e.data.id === bookingId);

for (const mode of ['commit-then-die', 'publish-then-die'] as const) {
  test(`when a process is killed after its commit (${mode}), then the booking's domain event reaches the stream exactly once`, async () => {
    const event = await t.createEvent({ capacity: 5 });
    const [user] = await t.registerUsers(1, mode);
    const bookingId = await commitThenDie(event.id, user.id, mode);

    const shard = shardOf(event.id, t.system.config.shards);
    let seen: DomainEvent[] = [];
    // The relay's next poll publishes what the dead process left; a starved machine may take a while.
    for (const until = Date.now() + 60_000; seen.length === 0 && Date.now() < until;) {
      seen = confirmationsOf(await streamOf(shard), bookingId);
      if (seen.length === 0) await sleep(100);
    }
    assert.equal(seen.length, 1, 'published once');
    assert.equal(seen[0]?.availability?.available, 4);
    assert.equal(seen[0]?.requestId, 'commit-then-die');
    // Give a second relay pass every chance to publish a duplicate.
    await sleep(t.system.config.outboxPollMs + 200);
    assert.equal(
      confirmationsOf(await streamOf(shard), bookingId).length,
      1,
      'still once after the relay polled again',
    );
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM outbox');
    assert.equal(rows[0].n, 0, 'the outbox is drained');
    assert.ok((await readSeatLedger(t.db, event.id)).ok);
  });
}

test('when the stream delivers a domain event twice, then the waitlist applies it once', async () => {
  const event = await t.createEvent({ capacity: 1 });
  const [buyer, waiter] = await t.registerUsers(2, 'dedupe');
  const sold = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: buyer.token, body: { quantity: 1 } });
  await t.api('POST', `/v1/events/${event.id}/waitlist`, { token: waiter.token, body: { quantity: 1 } });
  await t.api('POST', `/v1/bookings/${sold.body.id}/cancel`, { token: buyer.token });
  const shard = shardOf(event.id, t.system.config.shards);
  let released: DomainEvent | undefined;
  for (const until = Date.now() + 60_000; !released && Date.now() < until;) {
    released = (await streamOf(shard)).find((e) => e.type === 'seats.released' && e.eventId === event.id);
    if (!released) await sleep(100);
  }
  assert.ok(released);
  const jsm = await nc.jetstreamManager();
  const before = await jsm.consumers.info(DOMAIN_STREAM, durableName(CONSUMER, shard, 'seats.released'));
  // Redelivered under a new message id, so the stream's own dedupe lets it through.
  await nc
    .jetstream()
    .publish(domainSubject('seats.released', shard), JSON.stringify(released), { msgID: `again-${released.id}` });
  let info = before;
  for (
    const until = Date.now() + 60_000;
    !(info.delivered.consumer_seq > before.delivered.consumer_seq && info.num_ack_pending === 0) && Date.now() < until;
  ) {
    await sleep(50);
    info = await jsm.consumers.info(DOMAIN_STREAM, durableName(CONSUMER, shard, 'seats.released'));
  }
  assert.ok(
    info.delivered.consumer_seq > before.delivered.consumer_seq && info.num_ack_pending === 0,
    'the duplicate was delivered and acknowledged',
  );
  const { rows } = await t.db.query('SELECT count(*)::int AS n FROM consumed_events WHERE event_id = $1', [
    released.id,
  ]);
  assert.equal(rows[0].n, 1);
  const holds = await t.db.query('SELECT count(*)::int AS n FROM holds WHERE event_id = $1', [event.id]);
  assert.equal(holds.rows[0].n, 1, 'one hold, offered once');
  assert.ok((await readSeatLedger(t.db, event.id)).ok);
});
