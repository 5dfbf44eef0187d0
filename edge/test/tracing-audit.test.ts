// One request id, and the caller's W3C trace, followed from the HTTP request
// through the edge's log, the actor thread's log and the audit log; the audit
// log's filters and cursor; and the table refusing to be rewritten.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { eventuallyValue as eventually } from '../../ops/testing/eventually.js';

interface Started {
  url: string;
  adminToken: string;
  databaseUrl: string;
}

let child: ChildProcess;
let sys: Started;
let db: pg.Pool;
const lines: Record<string, unknown>[] = [];

before(async () => {
  child = fork(new URL('./fixtures/traced-system.js', import.meta.url), {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      /* not a log line */
    }
  });
  sys = await new Promise<Started>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Started));
    child.once('exit', (code) => reject(new Error(`traced system exited with ${code}`)));
  });
  db = new pg.Pool({ connectionString: sys.databaseUrl, max: 2 });
});
after(async () => {
  await db?.end();
  if (child?.connected) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    await exited;
  }
});

async function api(
  method: string,
  path: string,
  { token, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const h: Record<string, string> = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(sys.url + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as any };
}

async function register(name: string) {
  const r = await api('POST', '/v1/auth/register', {
    body: { email: `${name}-${randomUUID()}@example.test`, password: 'correct horse battery', name },
  });
  assert.equal(r.status, 201);
  return { id: r.body.user.id as string, token: r.body.token as string };
}

async function createEvent(capacity: number): Promise<string> {
  const r = await api('POST', '/v1/events', {
    token: sys.adminToken,
    body: {
      name: 'Traced',
      venue: 'Hall',
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      capacity,
      price: 100,
    },
  });
  assert.equal(r.status, 201);
  return r.body.id;
}

const auditOf = async (query: string) => (await api('GET', `/v1/admin/audit?${query}`, { token: sys.adminToken })).body;

test('when a booking carries a request id and a traceparent, then the edge log, the actor log and the audit row all carry both', async () => {
  const eventId = await createEvent(10);
  const user = await register('traced');
  const requestId = `trace-me-${randomBytes(4).toString('hex')}`;
  const traceId = randomBytes(16).toString('hex');
  const r = await api('POST', `/v1/events/${eventId}/bookings`, {
    token: user.token,
    body: { quantity: 2 },
    headers: { 'x-request-id': requestId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
  });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('x-request-id'), requestId);

  const edgeLine = await eventually('edge log line', () =>
    lines.find((l) => l.requestId === requestId && l.actor === undefined && l.traceId === traceId),
  );
  assert.match(String(edgeLine.msg), /request/, "Fastify's own request line");
  const actorLine = await eventually('actor log line', () =>
    lines.find((l) => l.requestId === requestId && l.actor === 'inventory'),
  );
  assert.equal(actorLine.traceId, traceId, "the actor continues the caller's trace");
  assert.equal(actorLine.msg, 'handled');

  const page = await eventually('audit row', async () => {
    const body = await auditOf(`requestId=${requestId}`);
    return body.items.length > 0 ? body : undefined;
  });
  assert.equal(page.items.length, 1);
  assert.deepEqual(
    { ...page.items[0], id: undefined, at: undefined, durationMs: undefined, ip: undefined },
    {
      id: undefined,
      at: undefined,
      durationMs: undefined,
      ip: undefined,
      userId: user.id,
      role: 'user',
      subject: null,
      method: 'POST',
      route: '/v1/events/:id/bookings',
      action: 'booking.create',
      targetId: eventId,
      status: 201,
      code: null,
      requestId,
      traceId,
    },
  );
});

test('when the audit log is read with filters, then each filter narrows it and the cursor walks it newest first without repeats', async () => {
  const eventId = await createEvent(3);
  const [ann, bob] = [await register('ann'), await register('bob')];
  const started = new Date().toISOString();
  for (let i = 0; i < 3; i++) {
    assert.equal(
      (await api('POST', `/v1/events/${eventId}/bookings`, { token: ann.token, body: { quantity: 1 } })).status,
      201,
    );
  }
  const refused = await api('POST', `/v1/events/${eventId}/bookings`, {
    token: bob.token,
    body: { quantity: 1 },
    headers: { 'x-request-id': `bob-${randomUUID()}` },
  });
  assert.equal(refused.body.code, 'SOLD_OUT');
  await api('POST', '/v1/auth/login', { body: { email: 'who@example.test', password: 'wrong' } });

  const anns = await eventually("ann's three records", async () => {
    const body = await auditOf(`userId=${ann.id}`);
    return body.items.length === 3 ? body.items : undefined;
  });
  assert.ok(anns.every((rec: any) => rec.action === 'booking.create' && rec.status === 201));
  const sold = await eventually("bob's refusal", async () => {
    const body = await auditOf(`action=booking.create&status=409&code=SOLD_OUT&from=${encodeURIComponent(started)}`);
    return body.items.length === 1 ? body.items : undefined;
  });
  assert.equal(sold[0].userId, bob.id);
  const login = await eventually('failed login', async () => {
    const body = await auditOf('action=auth.login&status=401');
    return body.items.find((rec: any) => rec.subject === 'who@example.test');
  });
  assert.equal(login.code, 'INVALID_CREDENTIALS');
  assert.deepEqual(
    (await auditOf(`to=${encodeURIComponent(started)}&userId=${ann.id}`)).items,
    [],
    'nothing of ann before she started',
  );

  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await auditOf(`userId=${ann.id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    walked.push(...page.items.map((rec: any) => rec.id));
    cursor = page.nextCursor;
  } while (cursor);
  assert.deepEqual(
    walked,
    anns.map((rec: any) => rec.id),
    'same records, same order',
  );
  const times = anns.map((rec: any) => rec.at);
  assert.deepEqual([...times].sort().reverse(), times, 'newest first');

  const asUser = await api('GET', '/v1/admin/audit', { token: ann.token });
  assert.equal(asUser.status, 403);
});

test('when anyone tries to change or delete an audit row, then the database refuses', async () => {
  const { rows } = await db.query('SELECT id FROM audit_log LIMIT 1');
  assert.equal(rows.length, 1);
  await assert.rejects(db.query(`UPDATE audit_log SET status = 200 WHERE id = $1`, [rows[0].id]), /append-only/);
  await assert.rejects(db.query(`DELETE FROM audit_log WHERE id = $1`, [rows[0].id]), /append-only/);
  await assert.rejects(db.query('TRUNCATE audit_log'), /append-only/);
});
