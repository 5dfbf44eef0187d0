// /metrics on the edge and on the supervisor expose the named series, with
// values that follow what the test did: requests by route and status, NATS
// latency by operation, actor handler latency and queue depth summed over
// the pool's threads, batch sizes, lock waits, booking counters, waitlist
// offers, WebSocket clients, consumer lag, and the seat invariant per event,
// which must move when the ledger is broken behind the actors' backs.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { JOB } from '../../supervisor/scheduler/job-names.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { LiveTestClient } from '../../ops/testing/live-client.js';

let t: TestSystem;
before(async () => {
  t = await startTestSystem();
});
after(async () => {
  await t?.stop();
});

const scrape = async (base: string): Promise<string> => {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
};
const edgeMetrics = () => scrape(t.url);
const supervisorMetrics = () => scrape(t.system.supervisor.adminUrl);

/** The value of one series, labels matched exactly (in any order); undefined when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]));
    if (
      Object.keys(have).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => have[k] === v)
    )
      return Number(m[3]);
  }
  return undefined;
}

/** Scrapes until `check` passes: counters in actor threads are read when asked, after the reply went out. */
async function eventually(
  read: () => Promise<string>,
  check: (text: string) => boolean,
  what: string,
): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await read();
    if (check(text)) return text;
    if (Date.now() > deadline)
      assert.fail(
        `${what} never showed in /metrics:\n${text
          .split('\n')
          .filter((l) => l.startsWith('evently_'))
          .join('\n')}`,
      );
    await sleep(200);
  }
}

test('when bookings, a sell-out, a cancellation and a waitlist offer happen, then the edge and the supervisor count them', async () => {
  const event = await t.createEvent({ capacity: 2, maxTicketsPerUser: 2 });
  const [alice, bob, carol] = await t.registerUsers(3, 'metrics');
  const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: alice.token, body: { quantity: 2 } });
  assert.equal(booked.status, 201);
  assert.equal(
    (await t.api('POST', `/v1/events/${event.id}/bookings`, { token: bob.token, body: { quantity: 1 } })).body.code,
    'SOLD_OUT',
  );
  assert.equal(
    (await t.api('POST', `/v1/events/${event.id}/waitlist`, { token: carol.token, body: { quantity: 1 } })).status,
    201,
  );
  assert.equal((await t.api('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: alice.token })).status, 200);
  assert.equal((await t.api('GET', '/v1/events/not-a-uuid')).status, 400);

  const edge = await edgeMetrics();
  assert.ok(
    value(edge, 'http_request_duration_seconds_count', {
      method: 'POST',
      route: '/v1/events/:id/bookings',
      status_code: '201',
    })! >= 1,
  );
  assert.ok(
    value(edge, 'http_request_duration_seconds_count', {
      method: 'POST',
      route: '/v1/events/:id/bookings',
      status_code: '409',
    })! >= 1,
  );
  assert.ok(
    value(edge, 'http_request_duration_seconds_count', {
      method: 'GET',
      route: '/v1/events/:id',
      status_code: '400',
    })! >= 1,
  );
  assert.ok(
    value(edge, 'evently_nats_request_duration_seconds_count', {
      subject: 'inventory.bookings.create',
      outcome: 'ok',
    })! >= 1,
  );
  assert.ok(
    value(edge, 'evently_nats_request_duration_seconds_count', {
      subject: 'inventory.bookings.create',
      outcome: 'SOLD_OUT',
    })! >= 1,
  );
  assert.equal(
    value(edge, 'http_request_duration_seconds_count', {
      method: 'GET',
      route: '/v1/events/not-a-uuid',
      status_code: '400',
    }),
    undefined,
    'raw URLs never become labels',
  );

  const sup = await eventually(
    supervisorMetrics,
    (s) => (value(s, 'evently_waitlist_offers_total') ?? 0) >= 1,
    'the waitlist offer',
  );
  assert.equal(value(sup, 'evently_bookings_total', { via: 'direct' }), 1);
  assert.equal(value(sup, 'evently_tickets_sold_total'), 2);
  assert.equal(value(sup, 'evently_sold_out_total'), 1);
  assert.equal(value(sup, 'evently_booking_cancellations_total', { by: 'booking' }), 1);
  assert.ok(
    value(sup, 'evently_actor_handler_duration_seconds_count', {
      pool: 'inventory',
      operation: 'bookings.create',
      outcome: 'ok',
    })! >= 1,
  );
  assert.ok(
    value(sup, 'evently_actor_handler_duration_seconds_count', {
      pool: 'inventory',
      operation: 'bookings.create',
      outcome: 'SOLD_OUT',
    })! >= 1,
  );
  assert.ok(
    value(sup, 'evently_actor_handler_duration_seconds_count', {
      pool: 'waitlist',
      operation: 'entries.join',
      outcome: 'ok',
    })! >= 1,
  );
  assert.equal(value(sup, 'evently_actor_queue_depth', { pool: 'inventory' }), 0);
  assert.ok(value(sup, 'evently_booking_batch_size_count')! >= 2);
  assert.notEqual(value(sup, 'evently_booking_unlocked_conflicts_total'), undefined);
  assert.ok(value(sup, 'evently_booking_lock_wait_seconds_count', { outcome: 'acquired' })! >= 2);
  assert.notEqual(
    value(sup, 'evently_consumer_pending', { stream: 'EVENTLY_DOMAIN', consumer: 'waitlist', type: 'seats-released' }),
    undefined,
  );
  assert.equal(value(sup, 'evently_actor_restarts_total', { pool: 'inventory' }), 0);

  // The mailer's threads (summed by the supervisor) and the scheduler in its main thread.
  const mailed = await eventually(
    supervisorMetrics,
    (s) => (value(s, 'evently_mail_sent_total', { template: 'booking-confirmed', provider: 'smtp' }) ?? 0) >= 1,
    'the confirmation mail',
  );
  assert.equal(value(mailed, 'evently_actor_queue_depth', { pool: 'mailer' }), 0, 'every pool reports its queue');
  assert.equal(value(mailed, 'evently_actor_queue_depth', { pool: 'pricing' }), 0);
  await t.system.supervisor.scheduler.runNow(JOB.lockCleanup);
  const jobs = await supervisorMetrics();
  assert.ok(value(jobs, 'evently_agenda_job_runs_total', { job_name: JOB.lockCleanup, outcome: 'ok' })! >= 1);
});

test("when the ledger is broken behind the actors' backs, then the invariant gauge of that event leaves 0, and only of that event", async () => {
  const [good, bad] = [await t.createEvent({ capacity: 10 }), await t.createEvent({ capacity: 10 })];
  const [user] = await t.registerUsers(1, 'invariant');
  assert.equal(
    (await t.api('POST', `/v1/events/${bad.id}/bookings`, { token: user.token, body: { quantity: 3 } })).status,
    201,
  );
  const before = await supervisorMetrics();
  assert.equal(value(before, 'evently_seat_invariant', { event: good.id }), 0);
  assert.equal(value(before, 'evently_seat_invariant', { event: bad.id }), 0);

  await t.db.query('UPDATE events SET available = available + 2 WHERE id = $1', [bad.id]);
  const broken = await supervisorMetrics();
  assert.equal(value(broken, 'evently_seat_invariant', { event: bad.id }), 2);
  assert.equal(value(broken, 'evently_seat_invariant', { event: good.id }), 0);
  await t.db.query('UPDATE events SET available = available - 2 WHERE id = $1', [bad.id]);
});

test("when WebSocket clients connect and leave, then the edge's client gauge follows", async () => {
  const clients = await Promise.all([LiveTestClient.open(t.url), LiveTestClient.open(t.url)]);
  await eventually(edgeMetrics, (s) => value(s, 'evently_ws_clients') === 2, 'two clients');
  for (const c of clients) c.socket.close();
  await eventually(edgeMetrics, (s) => value(s, 'evently_ws_clients') === 0, 'no clients');
});
