// Analytics on a read replica, and the streamed CSV export: with
// DATABASE_READ_URL naming a real hot standby, figures and exports are read
// there while the roll-ups are written on the primary; a 50,000-row export
// arrives whole and correctly escaped; and the actor never runs further
// ahead of its reader than the reader's credit allows.
import { signIdentity } from '../../../platform/identity-signature.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, createInbox, headers, type Msg } from 'nats';
import { natsOptions } from '../../../platform/nats-connect.js';
import {
  analytics,
  EXPORT_CHUNK_BYTES,
  ExportHeaders,
  Headers,
  subjectFor,
  type EventAnalytics,
  type Outcome,
} from '../../../protocol/index.js';
import { eventually } from '../../../ops/testing/eventually.js';
import { startReplicaSystem, type ReplicaSystem } from '../../../ops/testing/replica-system.js';

const ROWS = 50_000;

describe('analytics on a read replica, and CSV exports', () => {
  let t: ReplicaSystem;
  let big: string;
  const api = (path: string) => fetch(t.url + path, { headers: { authorization: `Bearer ${t.adminToken}` } });

  before(async () => {
    t = await startReplicaSystem();
    big = (
      (await (
        await fetch(`${t.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'Big export',
            venue: 'Hall',
            startsAt: new Date(Date.now() + 86_400_000).toISOString(),
            capacity: 100_000,
            price: 2500,
          }),
        })
      ).json()) as { id: string }
    ).id;
    // Written straight into the primary: the export reads tables, not the stream.
    await t.primary.query(`INSERT INTO users (id, email, name, password_hash) VALUES
      ('01937a4c-1f00-7000-8000-00000000c001', 'comma@example.test', 'Doe, "Jane"', 'x'),
      ('01937a4c-1f00-7000-8000-00000000c002', 'formula@example.test', '=HYPERLINK("http://x")', 'x')`);
    await t.primary.query(
      `INSERT INTO bookings (id, event_id, user_id, quantity, unit_price, total_price, currency, status, created_at)
       SELECT gen_random_uuid(), $1, CASE WHEN i % 2 = 0 THEN '01937a4c-1f00-7000-8000-00000000c001'::uuid ELSE '01937a4c-1f00-7000-8000-00000000c002'::uuid END,
              1, 2500, 2500, 'EUR', 'confirmed', timestamptz '2026-11-24 10:00:00+00' + i * interval '1 second'
         FROM generate_series(1, $2) i`,
      [big, ROWS],
    );
    await eventually(async () => {
      const {
        rows: [counted],
      } = await t.replica.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE event_id = $1', [big]);
      assert.equal(counted?.n, ROWS);
    });
  });
  after(async () => {
    await t?.stop();
  });

  test('when DATABASE_READ_URL names a hot standby, then figures are read there and roll-ups written on the primary', async () => {
    const registered = await fetch(`${t.url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'buyer@example.test', password: 'correct horse battery', name: 'Buyer' }),
    });
    const { token } = (await registered.json()) as { token: string };
    const booked = await fetch(`${t.url}/v1/events/${big}/bookings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 2 }),
    });
    assert.equal(booked.status, 201);
    await eventually(async () => {
      const {
        rows: [row],
      } = await t.primary.query('SELECT tickets FROM analytics_events WHERE event_id = $1', [big]);
      assert.equal(row?.tickets, 2, 'the booking is rolled up on the primary');
    });
    // The rows written straight into the tables never crossed the stream: only the API's booking counts.
    await eventually(async () => {
      const body = (await (await api(`/v1/admin/analytics/events/${big}`)).json()) as EventAnalytics;
      assert.equal(body.figures.tickets, 2);
    });
    const readers = async (pool: typeof t.primary) =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'evently-analytics-read'`,
        )
      ).rows[0]?.n ?? 0;
    assert.ok((await readers(t.replica)) > 0, 'analytics read connections on the replica');
    assert.equal(await readers(t.primary), 0, 'no analytics read connections on the primary');
  });

  test('when 50,000 bookings are exported, then the CSV streams whole with a header and escaped cells', async () => {
    const res = await api(`/v1/admin/analytics/events/${big}/bookings.csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`bookings-${big}\\.csv`));
    let lines = 0;
    let header = '';
    let tail = '';
    const seen = new Set<string>();
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = tail + decoder.decode(chunk, { stream: true });
      const parts = text.split('\r\n');
      tail = parts.pop() ?? '';
      for (const line of parts) {
        if (lines === 0) header = line;
        else if (seen.size < 4) seen.add(line.split(',').slice(2, -7).join(','));
        lines += 1;
      }
    }
    assert.equal(tail, '', 'the last row ends with CRLF');
    assert.equal(
      header,
      'bookingId,userId,email,name,quantity,unitPrice,totalPrice,currency,status,createdAt,cancelledAt',
    );
    // The API's own booking (2 tickets) is there too.
    assert.equal(lines, 1 + ROWS + 1);
    assert.ok(seen.has('comma@example.test,"Doe, ""Jane"""'), [...seen].join(' | '));
    assert.ok(seen.has('formula@example.test,"\'=HYPERLINK(""http://x"")"'), [...seen].join(' | '));
  });

  test('when the reader stops crediting, then the actor sends no more than its window, and the rest once credit comes', async () => {
    const nc = await connect(natsOptions(t.system.config, 'supervisor'));
    try {
      const inbox = createInbox();
      const chunks: Msg[] = [];
      let done: Msg | undefined;
      const sub = nc.subscribe(inbox, {
        callback: (_err, m) => {
          if (m.headers?.has(ExportHeaders.end) || m.headers?.has(ExportHeaders.error)) done = m;
          else chunks.push(m);
        },
      });
      const h = headers();
      h.set(Headers.requestId, 'credit-test');
      // What an edge sends for a signed-in admin: the role, signed with the identity key.
      h.set(Headers.userId, '');
      h.set(Headers.userRole, 'admin');
      h.set(
        Headers.identitySignature,
        signIdentity(t.system.config.identityKey, { userId: '', role: 'admin', requestId: 'credit-test' }),
      );
      const reply = await nc.request(
        subjectFor(analytics.exportBookings),
        JSON.stringify({ eventId: big, inbox, window: 2 }),
        { headers: h, timeout: 30_000 },
      );
      const { creditSubject } = (
        reply.json<Outcome<{ creditSubject: string }>>() as { value: { creditSubject: string } }
      ).value;
      // Two chunks come without credit (however slow the machine), then nothing more until credit is given.
      for (const until = Date.now() + 60_000; chunks.length < 2 && Date.now() < until;)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(chunks.length, 2, 'two chunks without credit, then it waits');
      assert.ok((chunks[0]?.data.length ?? 0) >= EXPORT_CHUNK_BYTES);

      const deadline = Date.now() + 60_000;
      let credited = 0;
      while (!done && Date.now() < deadline) {
        if (credited < chunks.length) nc.publish(creditSubject, JSON.stringify({ acked: (credited = chunks.length) }));
        await new Promise((r) => setTimeout(r, 5));
      }
      sub.unsubscribe();
      assert.equal(done?.headers?.get(ExportHeaders.end), String(ROWS + 1));
      assert.deepEqual(
        chunks.map((m) => Number(m.headers?.get(ExportHeaders.seq))),
        chunks.map((_, i) => i + 1),
      );
      const bytes = chunks.reduce((n, m) => n + m.data.length, 0);
      assert.ok(bytes > 50 * EXPORT_CHUNK_BYTES, `${bytes} bytes in ${chunks.length} chunks`);
    } finally {
      await nc.close();
    }
  });
});
