// Poison messages, storage and operator side: an audit batch that fails its
// schema is stored in dead_letters once, terminated (not redelivered), counted
// in evently_dead_letters_total, and later batches are written as usual; an
// operator lists dead letters and replays one, which publishes its payload to
// its subject again so the consumer processes it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import { AUDIT_CONSUMER, AUDIT_RECORDS_SUBJECT, AUDIT_STREAM, type AuditRecord } from '../../protocol/index.js';
import { eventuallyValue } from '../../ops/testing/eventually.js';
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

async function admin(
  method: string,
  path: string,
  token: string | null = t.adminToken,
): Promise<{ status: number; body: any }> {
  const res = await fetch(t.system.supervisor.adminUrl + path, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const auditRecord = (): AuditRecord => ({
  id: randomUUID(),
  at: new Date().toISOString(),
  userId: null,
  role: null,
  subject: null,
  ip: '127.0.0.1',
  method: 'POST',
  route: '/v1/test',
  action: 'test.replay',
  targetId: null,
  status: 200,
  code: null,
  requestId: randomUUID(),
  traceId: 'f'.repeat(32),
  durationMs: 1,
});

test('when an audit batch does not match its schema, then it is dead-lettered once, not redelivered, counted, and later batches are written', async () => {
  const h = natsHeaders();
  h.set('x-origin', 'poison-test');
  const ack = await nc.jetstream().publish(AUDIT_RECORDS_SUBJECT, JSON.stringify({ not: 'a batch' }), { headers: h });
  const listed = await eventuallyValue(
    'the dead letter listed',
    async () => {
      const r = await admin('GET', `/dead-letters?consumer=${AUDIT_CONSUMER}`);
      return r.body?.deadLetters?.find((d: { streamSeq: number }) => d.streamSeq === ack.seq);
    },
    60_000,
  );
  assert.equal(listed.stream, AUDIT_STREAM);
  assert.equal(listed.subject, AUDIT_RECORDS_SUBJECT);
  assert.match(listed.reason, /schema/);
  assert.equal(listed.payload, '{"not":"a batch"}');
  assert.equal(listed.payloadEncoding, 'utf8');
  assert.deepEqual(listed.headers['x-origin'], ['poison-test']);
  assert.equal(listed.replayedAt, null);

  // Terminated: the consumer has nothing of it pending, so it is never delivered again.
  const jsm = await nc.jetstreamManager();
  await eventuallyValue(
    'the consumer done with it',
    async () => {
      const info = await jsm.consumers.info(AUDIT_STREAM, AUDIT_CONSUMER);
      return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
    },
    60_000,
  );
  const metrics = await (await fetch(`${t.system.supervisor.adminUrl}/metrics`)).text();
  assert.match(metrics, new RegExp(`evently_dead_letters_total\\{consumer="${AUDIT_CONSUMER}",kind="invalid"\\} 1`));

  // Nothing waits behind it: the next batch is written.
  const next = auditRecord();
  await nc.jetstream().publish(AUDIT_RECORDS_SUBJECT, JSON.stringify([next]));
  await eventuallyValue(
    'the next batch written',
    async () => {
      const { rows } = await t.db.query('SELECT 1 FROM audit_log WHERE id = $1', [next.id]);
      return rows.length === 1 ? true : undefined;
    },
    60_000,
  );
  const { rows } = await t.db.query('SELECT deliveries FROM dead_letters WHERE stream_seq = $1 AND consumer = $2', [
    ack.seq,
    AUDIT_CONSUMER,
  ]);
  assert.deepEqual(rows, [{ deliveries: 1 }], 'stored once, from its first delivery');
});

test('when an operator replays a dead letter, then its payload is published to its subject again and the consumer writes it', async () => {
  // As if a batch had failed every delivery while the database refused it, then the fault was fixed.
  const record = auditRecord();
  // Written as recordDeadLetter writes it; not through that module, whose counter would then also
  // live on this (the supervisor's) thread and clash with the actor threads' series in a scrape.
  const {
    rows: [{ id }],
  } = await t.db.query(
    `INSERT INTO dead_letters (consumer, stream, subject, stream_seq, reason, payload, headers, deliveries)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::int`,
    [
      AUDIT_CONSUMER,
      AUDIT_STREAM,
      AUDIT_RECORDS_SUBJECT,
      1_000_000_000,
      'not written after 20 deliveries',
      Buffer.from(JSON.stringify([record])),
      JSON.stringify({ 'Nats-Msg-Id': ['original-id'] }),
      20,
    ],
  );
  const replay = await admin('POST', `/dead-letters/${id}/replay`);
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  assert.equal(replay.body.id, id);
  assert.ok(replay.body.replayedAt, 'marked replayed');
  await eventuallyValue(
    'the replayed batch written',
    async () => {
      const { rows } = await t.db.query('SELECT 1 FROM audit_log WHERE id = $1', [record.id]);
      return rows.length === 1 ? true : undefined;
    },
    60_000,
  );
});

test('when dead letters are asked for without an admin token, by a bad id or one that does not exist, then the problem says so', async () => {
  assert.equal((await admin('GET', '/dead-letters', null)).status, 401);
  const bad = await admin('POST', '/dead-letters/abc/replay');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'VALIDATION_FAILED');
  assert.match(bad.body.detail, /id/);
  const missing = await admin('POST', '/dead-letters/999999999/replay');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'NOT_FOUND');
  const tooMany = await admin('GET', '/dead-letters?limit=501');
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.body.detail, /limit/);
});
