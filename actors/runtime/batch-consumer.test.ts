// The batch consumer against a real nats-server (the stack's): events that
// pile up while a batch is applied come as one batch, in stream order; a
// failing batch is applied event by event so only the bad event is
// redelivered; a message that is not a domain event, or an event of a type
// not asked for, never reaches the handler.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { startStack, type Stack } from '../../ops/stack/index.js';
import { domainSubject, type DomainEvent } from '../protocol/index.js';
import { consumeShardsInBatches } from './batch-consumer.js';
import { ensureDomainStream } from './domain-stream.js';
import { createLogger } from './logger.js';

let dir: string;
let stack: Stack;
let nc: NatsConnection;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evently-batches-'));
  stack = await startStack({ dataDir: dir, services: { redis: false, postgres: false, mail: false }, log: () => undefined });
  nc = await connect({ servers: stack.natsUrl, user: 'supervisor', pass: stack.natsPasswords?.supervisor });
  await ensureDomainStream(await nc.jetstreamManager());
});
after(async () => {
  await nc?.close();
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const envelope = (n: number) => ({
  id: randomUUID(), type: 'booking.confirmed', eventId: randomUUID(), version: n, occurredAt: new Date().toISOString(),
  requestId: `r${n}`, availability: null, data: { n },
});

test('when events pile up while a batch is applied, then they come as batches in order, other types are skipped, and a bad event is redelivered alone', async () => {
  const sent = Array.from({ length: 40 }, (_, i) => envelope(i));
  const poison = sent[25].id;
  const batches: number[][] = [];
  const applied: number[] = [];
  let poisonFailures = 0;
  const consumer = await consumeShardsInBatches(nc, `test-${randomUUID().slice(0, 8)}`, [0], ['booking.confirmed'], createLogger('silent'), async (events) => {
    batches.push(events.map((e) => e.version));
    // Slow enough for the rest to arrive meanwhile.
    await sleep(50);
    if (events.some((e) => e.id === poison) && poisonFailures++ < 2) throw new Error('poison');
    applied.push(...events.map((e) => e.version));
  });
  try {
    const js = nc.jetstream();
    await js.publish(domainSubject('booking.confirmed', 0), 'not a domain event');
    await js.publish(domainSubject('hold.created', 0), JSON.stringify({ ...envelope(999), type: 'hold.created' }));
    for (const e of sent) await js.publish(domainSubject('booking.confirmed', 0), JSON.stringify(e), { msgID: e.id });
    const until = Date.now() + 20_000;
    while (applied.length < sent.length && Date.now() < until) await sleep(50);
  } finally {
    await consumer.stop();
  }
  assert.deepEqual([...applied].sort((a, b) => a - b), sent.map((e) => e.version), 'every event applied once');
  assert.ok(batches.some((b) => b.length > 1), `batched: ${JSON.stringify(batches)}`);
  for (const b of batches) assert.deepEqual(b, [...b].sort((x, y) => x - y), 'stream order within a batch');
  assert.ok(batches.filter((b) => b.length === 1 && b[0] === 25).length >= 2, 'the bad event alone, again');
  const applyOrder = applied.filter((v) => v !== 25);
  assert.deepEqual(applyOrder, [...applyOrder].sort((a, b) => a - b), 'the others in order, not held up by the bad one');
});

test('when the handler always fails on one event, then the others of its batch are still acknowledged', async () => {
  const name = `test-${randomUUID().slice(0, 8)}`;
  const sent = Array.from({ length: 5 }, (_, i) => envelope(100 + i));
  const bad = sent[2].id;
  const applied = new Set<string>();
  const consumer = await consumeShardsInBatches(nc, name, [1], ['booking.confirmed'], createLogger('silent'), async (events) => {
    if (events.some((e: DomainEvent) => e.id === bad)) throw new Error('always');
    for (const e of events) applied.add(e.id);
  });
  try {
    for (const e of sent) await nc.jetstream().publish(domainSubject('booking.confirmed', 1), JSON.stringify(e), { msgID: e.id });
    const until = Date.now() + 10_000;
    while (applied.size < 4 && Date.now() < until) await sleep(50);
  } finally {
    await consumer.stop();
  }
  assert.deepEqual([...applied].sort(), sent.filter((e) => e.id !== bad).map((e) => e.id).sort());
});
