// The recurring jobs, each run through Agenda on a real system: the hold sweep
// expires a hold whose timer never fired and the seats move on; past events
// are completed; orphaned locks are cleared; retention deletes only old rows;
// every run is counted and timed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { readSeatLedger } from '../../actors/inventory/public.js';
import { createLogger } from '../../platform/logger.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { JOB } from '../scheduler/job-names.js';
import { measured } from '../scheduler/metrics.js';
import { eventually, jobRuns, streamed } from './fixtures/scheduler.js';

let t: TestSystem;
let redis: Redis;
before(async () => {
  t = await startTestSystem();
  redis = new Redis(t.system.config.redisUrl);
});
after(async () => {
  redis?.disconnect();
  await t?.stop();
});

const runNow = (job: (typeof JOB)[keyof typeof JOB]) => t.system.supervisor.scheduler.runNow(job);
const holdOf = async (eventId: string, userId: string) =>
  (
    await t.db.query(
      'SELECT id, status FROM holds WHERE event_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 1',
      [eventId, userId],
    )
  ).rows[0];

test('when a hold is overdue and its timer never fired, then the hold sweep expires it and the seat goes to the next in line', async () => {
  const event = await t.createEvent({ capacity: 1 });
  const [buyer, first, second] = await t.registerUsers(3, 'sweep');
  const sold = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: buyer.token, body: { quantity: 1 } });
  assert.equal(sold.status, 201);
  for (const w of [first, second])
    assert.equal(
      (await t.api('POST', `/v1/events/${event.id}/waitlist`, { token: w.token, body: { quantity: 1 } })).status,
      201,
    );
  assert.equal((await t.api('POST', `/v1/bookings/${sold.body.id}/cancel`, { token: buyer.token })).status, 200);
  const hold = await eventually("the first in line's hold", async () =>
    (await holdOf(event.id, first.id))?.status === 'active' ? holdOf(event.id, first.id) : undefined,
  );

  // Its timer is set for EVENTLY_HOLD_SECONDS (10 min): only the sweep can expire it now.
  await t.db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [hold.id]);
  await runNow(JOB.holdSweep);
  assert.equal((await holdOf(event.id, first.id)).status, 'expired');
  assert.equal((await holdOf(event.id, second.id))?.status, 'active', 'the seat is held for the next in line');
  assert.equal(
    (await t.api('GET', `/v1/events/${event.id}/waitlist/me`, { token: first.token })).body.status,
    'expired',
  );
  assert.ok((await readSeatLedger(t.db, event.id)).ok);
  const expired = await eventually('hold.expired on the stream', async () => {
    const found = (await streamed(t, 'hold.expired', event.id)).filter((e) => e.data.id === hold.id);
    return found.length > 0 ? found : undefined;
  });
  assert.equal(expired.length, 1);
});

test('when events have ended, then they are marked completed with a version bump and an event.updated; others are left alone', async () => {
  const [ended, endless, running, future] = await Promise.all([{}, {}, {}, {}].map(() => t.createEvent()));
  await t.db.query(
    `UPDATE events SET starts_at = now() - interval '3 hours', ends_at = now() - interval '1 hour' WHERE id = $1`,
    [ended.id],
  );
  await t.db.query(`UPDATE events SET starts_at = now() - interval '1 hour', ends_at = NULL WHERE id = $1`, [
    endless.id,
  ]);
  await t.db.query(
    `UPDATE events SET starts_at = now() - interval '1 hour', ends_at = now() + interval '1 hour' WHERE id = $1`,
    [running.id],
  );
  await runNow(JOB.completeEvents);

  const { rows } = await t.db.query('SELECT id, status, version FROM events WHERE id = ANY($1::uuid[])', [
    [ended.id, endless.id, running.id, future.id],
  ]);
  const now = Object.fromEntries(rows.map((r) => [r.id, r]));
  assert.deepEqual([now[ended.id].status, now[ended.id].version], ['completed', ended.version + 1]);
  assert.deepEqual(
    [now[endless.id].status, now[endless.id].version],
    ['completed', endless.version + 1],
    'no end: its start counts',
  );
  assert.deepEqual([now[running.id].status, now[running.id].version], ['scheduled', running.version]);
  assert.deepEqual([now[future.id].status, now[future.id].version], ['scheduled', future.version]);
  const announced = await eventually('event.updated on the stream', async () => {
    const found = (await streamed(t, 'event.updated', ended.id)).filter((e) => e.data.status === 'completed');
    return found.length > 0 ? found : undefined;
  });
  assert.equal(announced.length, 1);
  assert.equal(announced[0]?.version, ended.version + 1);
  const booking = await t.api('POST', `/v1/events/${ended.id}/bookings`, {
    token: (await t.registerUsers(1, 'late'))[0].token,
    body: { quantity: 1 },
  });
  assert.equal(booking.body.code, 'EVENT_NOT_BOOKABLE');
});

test('when locks are orphaned, then the lock clean-up gives timeless booking locks a TTL and frees expired locks of jobs nobody defines', async () => {
  const ttl = t.system.config.lockTtlMs;
  await redis.set('booking_lock:orphan:test', 'inventory:1:1:orphan');
  await redis.set('booking_lock:live:test', 'inventory:1:1:live', 'PX', ttl * 4);
  const { agenda } = t.system.supervisor.scheduler;
  const retired = await agenda
    .create('retired-job', {})
    .schedule(new Date(Date.now() + 86_400_000))
    .save();
  const fresh = await agenda
    .create('retired-job-fresh', {})
    .schedule(new Date(Date.now() + 86_400_000))
    .save();
  // Locked as a runner that died would leave them: long ago, and just now.
  await t.db.query(`UPDATE agenda_jobs SET locked_at = now() - interval '1 hour' WHERE id = $1`, [retired.attrs._id]);
  await t.db.query('UPDATE agenda_jobs SET locked_at = now() WHERE id = $1', [fresh.attrs._id]);
  const runsBefore = await jobRuns(JOB.lockCleanup);

  await runNow(JOB.lockCleanup);
  const orphanTtl = await redis.pttl('booking_lock:orphan:test');
  assert.ok(orphanTtl > 0 && orphanTtl <= ttl, `timeless lock now expires (pttl ${orphanTtl})`);
  assert.ok((await redis.pttl('booking_lock:live:test')) > ttl, 'a lock with its own TTL is left alone');
  const lockOf = async (id: unknown) => {
    const [job] = (await agenda.queryJobs({ id: String(id) })).jobs;
    assert.ok(job, `job ${String(id)} is still stored`);
    return job.lockedAt;
  };
  assert.equal(await lockOf(retired.attrs._id), undefined);
  assert.ok(await lockOf(fresh.attrs._id), 'a lock younger than the lock lifetime is kept');
  assert.equal((await jobRuns(JOB.lockCleanup)) - runsBefore, 1);
  await agenda.cancel({ names: ['retired-job', 'retired-job-fresh'] });
});

test("when bookkeeping rows pass the stream's retention, then only those are deleted", async () => {
  const event = await t.createEvent();
  const [old, recent] = [uuidv7(), uuidv7()];
  await t.db.query(
    `INSERT INTO consumed_events (consumer, event_id, consumed_at) VALUES
    ('retention-test', $1, now() - interval '8 days'), ('retention-test', $2, now() - interval '6 days')`,
    [old, recent],
  );
  await t.db.query(
    `INSERT INTO reminders_sent (event_id, reminder_window, starts_at) VALUES
    ($1, '24h', now() - interval '8 days'), ($1, '1h', now() - interval '1 day')`,
    [event.id],
  );
  await runNow(JOB.retentionCleanup);
  const consumed = await t.db.query(`SELECT event_id FROM consumed_events WHERE consumer = 'retention-test'`);
  assert.deepEqual(
    consumed.rows.map((r) => r.event_id),
    [recent],
  );
  const reminders = await t.db.query('SELECT reminder_window FROM reminders_sent WHERE event_id = $1', [event.id]);
  assert.deepEqual(
    reminders.rows.map((r) => r.reminder_window),
    ['1h'],
  );
});

test('when a job body fails, then the run is counted as failed, timed, and the error reaches Agenda', async () => {
  const before = await jobRuns('metrics-test', 'failed');
  const failing = measured('metrics-test', createLogger('silent'), async () => {
    throw new Error('boom');
  });
  await assert.rejects(failing(), /boom/);
  assert.equal((await jobRuns('metrics-test', 'failed')) - before, 1);
  const histogram = await register.getSingleMetric('evently_agenda_job_duration_seconds')!.get();
  const counted = histogram.values.find(
    (v) => v.labels.job_name === 'metrics-test' && (v as { metricName?: string }).metricName?.endsWith('_count'),
  );
  assert.ok(counted && counted.value >= 1, 'the failed run is timed');
});
