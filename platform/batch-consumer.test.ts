// The batch consumer against a real nats-server (the stack's): messages that
// pile up while a run is applied come as one run, in stream order; a failing
// run is applied message by message so only the bad message is redelivered;
// a message that keeps failing, or is not a domain message, is given up on
// into the dead-letter sink; events of types not asked for never reach the
// handler.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { startStack, type Stack } from '../ops/testing/servers.js';
import { domainSubject, type DomainEvent, type DomainMessage } from '../protocol/index.js';
import { consumeShardsInBatches } from './batch-consumer.js';
import { ensureDomainStream } from './domain-stream.js';
import { createLogger } from './logger.js';
import type { DeadLetter } from './poison.js';

let dir: string;
let stack: Stack;
let nc: NatsConnection;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evently-batches-'));
  stack = await startStack({
    dataDir: dir,
    services: { redis: false, postgres: false, mail: false },
    log: () => undefined,
  });
  nc = await connect({ servers: stack.natsUrl, user: 'supervisor', pass: stack.natsPasswords?.supervisor });
  await ensureDomainStream(await nc.jetstreamManager());
});
after(async () => {
  await nc?.close();
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const event = (n: number, type = 'booking.confirmed') =>
  ({
    id: randomUUID(),
    type,
    eventId: randomUUID(),
    version: n,
    occurredAt: new Date().toISOString(),
    requestId: `r${n}`,
    availability: null,
    data: { n },
  }) as unknown as DomainEvent;

/** Messages of two events each: versions 2i and 2i+1. */
const messagesOf = (count: number): DomainMessage[] =>
  Array.from({ length: count }, (_, i) => ({ id: randomUUID(), events: [event(2 * i), event(2 * i + 1)] }));

const publish = (shard: number, messages: readonly DomainMessage[]) =>
  Promise.all(
    messages.map((m) =>
      nc.jetstream().publish(domainSubject('booking.confirmed', shard), JSON.stringify(m), { msgID: m.id }),
    ),
  );

/** Polls until `done` holds; generous, because a loaded machine may redeliver late. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('when messages pile up while a run is applied, then they come as runs in order, other types are skipped, and a bad message is redelivered alone', async () => {
  const sent = messagesOf(20);
  const poison = sent[12]!.id;
  const runs: string[][] = [];
  const applied: number[] = [];
  let poisonFailures = 0;
  const consumer = await consumeShardsInBatches(
    nc,
    `test-${randomUUID().slice(0, 8)}`,
    [0],
    ['booking.confirmed'],
    createLogger('silent'),
    async (messages) => {
      runs.push(messages.map((m) => m.id));
      // Slow enough for the rest to arrive meanwhile.
      await sleep(50);
      if (messages.some((m) => m.id === poison) && poisonFailures++ < 2) throw new Error('poison');
      applied.push(...messages.flatMap((m) => m.events.map((e) => e.version)));
    },
  );
  try {
    const js = nc.jetstream();
    const other = { id: randomUUID(), events: [event(999, 'hold.created')] };
    await js.publish(domainSubject('hold.created', 0), JSON.stringify(other));
    await publish(0, sent);
    await until(() => applied.length >= 40, 'every event applied');
  } finally {
    await consumer.stop();
  }
  assert.deepEqual(
    [...applied].sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i),
    'every event applied once, the other type never',
  );
  assert.ok(
    runs.some((r) => r.length > 1),
    `batched: ${runs.map((r) => r.length).join(',')}`,
  );
  const position = new Map(sent.map((m, i) => [m.id, i]));
  // A redelivered message comes after messages sent later; everything else keeps stream order.
  for (const r of runs) {
    const firsts = r.filter((id) => id !== poison).map((id) => position.get(id)!);
    assert.deepEqual(
      firsts,
      [...firsts].sort((a, b) => a - b),
      'stream order within a run',
    );
  }
  assert.ok(
    runs.some((r) => r.length === 1 && r[0] === poison),
    'the bad message alone, again',
  );
  const applyOrder = applied.filter((v) => v !== 24 && v !== 25);
  assert.deepEqual(
    applyOrder,
    [...applyOrder].sort((a, b) => a - b),
    'the others in order, not held up by the bad one',
  );
});

test('when the handler always fails on one message, then the others of its run are acknowledged and the bad one ends as a dead letter', async () => {
  const name = `test-${randomUUID().slice(0, 8)}`;
  const sent = messagesOf(5);
  const bad = sent[2]!.id;
  const applied = new Set<string>();
  const dead: DeadLetter[] = [];
  const consumer = await consumeShardsInBatches(
    nc,
    name,
    [1],
    ['booking.confirmed'],
    createLogger('silent'),
    async (messages) => {
      if (messages.some((m) => m.id === bad)) throw new Error('always');
      for (const m of messages) applied.add(m.id);
    },
    {
      deadLetters: async (letter) => {
        dead.push(letter);
      },
      retry: { minMs: 10, maxMs: 20, maxDeliveries: 3 },
    },
  );
  try {
    await nc.jetstream().publish(domainSubject('booking.confirmed', 1), 'not a domain message');
    await publish(1, sent);
    await until(() => applied.size >= 4 && dead.length >= 2, 'the good messages applied and two dead letters');
  } finally {
    await consumer.stop();
  }
  assert.deepEqual(
    [...applied].sort(),
    sent
      .filter((m) => m.id !== bad)
      .map((m) => m.id)
      .sort(),
  );
  assert.deepEqual(dead.map((d) => d.reason.split(':')[0]).sort(), ['failed 3 times', 'not a valid domain message']);
  assert.equal(
    JSON.parse(Buffer.from(dead.find((d) => d.reason.startsWith('failed'))!.payload).toString()).id,
    bad,
    'the payload is kept whole',
  );
  assert.ok(
    dead.every((d) => d.consumer === `${name}-1` && d.streamSeq > 0),
    'named by the durable consumer',
  );
});

test('when a message was applied before, then freshEvents leaves it out', async () => {
  // freshEvents' SQL is covered with Postgres by the consumers' tests; here, its reading of messages.
  const [a, b] = messagesOf(2);
  const claimed = new Set([b!.id.toLowerCase()]);
  const fakeClient = { query: async () => ({ rows: [...claimed].map((event_id) => ({ event_id })) }) };
  const { freshEvents } = await import('./batch-consumer.js');
  const events = await freshEvents(fakeClient as never, 'test', [a!, b!, b!]);
  assert.deepEqual(
    events.map((e) => e.version),
    [2, 3],
    'only b, once, though it came twice',
  );
});
