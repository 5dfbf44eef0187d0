// Event reminders on Agenda's Postgres backend: scheduled when an event is
// created, moved with it, removed when it is cancelled; a due reminder is
// announced once even with two schedulers competing, and never for a start
// the event no longer has.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { JOB } from '../scheduler/job-names.js';
import { REMINDER_CONSUMER, type ReminderData } from '../scheduler/reminders.js';
import { eventually, reminderFiresOnceWithTwoSchedulers, streamed } from './fixtures/scheduler.js';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

let t: TestSystem;
before(async () => {
  t = await startTestSystem({ schedulerPollMs: 1000 });
});
after(async () => {
  await t?.stop();
});

/** The event's reminder jobs as Agenda has them: window → when it runs and the start it carries. */
async function remindersOf(eventId: string): Promise<Record<string, { runAt: number; startsAt: string }>> {
  const { jobs } = await t.system.supervisor.scheduler.agenda.queryJobs({ name: JOB.eventReminder, data: { eventId } });
  return Object.fromEntries(
    jobs.map((j) => {
      const data = j.data as ReminderData;
      return [data.window, { runAt: j.nextRunAt!.getTime(), startsAt: data.startsAt }];
    }),
  );
}

/** Waits until the event's reminder jobs are exactly these (start time → windows expected). */
const remindersBecome = (eventId: string, startsAt: string, windows: string[]) =>
  eventually(`reminders ${windows.join(', ') || 'none'}`, async () => {
    const jobs = await remindersOf(eventId);
    const match =
      Object.keys(jobs).sort().join() === [...windows].sort().join() &&
      windows.every(
        (w) =>
          jobs[w]?.startsAt === startsAt && jobs[w]?.runAt === Date.parse(startsAt) - (w === '24h' ? DAY_MS : HOUR_MS),
      );
    return match ? jobs : undefined;
  });

test('when a reminder falls due with two schedulers running, then it runs once and announces one event.reminder', async () => {
  await reminderFiresOnceWithTwoSchedulers(t);
});

test('when an event is created, moved and cancelled, then its 24 h and 1 h reminder jobs follow it and are removed', async () => {
  const startsAt = new Date(Date.now() + 3 * DAY_MS).toISOString();
  const event = await t.createEvent({ startsAt });
  await remindersBecome(event.id, startsAt, ['24h', '1h']);

  const later = new Date(Date.now() + 5 * DAY_MS).toISOString();
  assert.equal(
    (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { startsAt: later } })).status,
    200,
  );
  await remindersBecome(event.id, later, ['24h', '1h']);

  // Moved to two hours from now: the 24 h window has passed, so only the 1 h reminder remains.
  const soon = new Date(Date.now() + 2 * HOUR_MS).toISOString();
  assert.equal(
    (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { startsAt: soon } })).status,
    200,
  );
  await remindersBecome(event.id, soon, ['1h']);

  assert.equal((await t.api('POST', `/v1/events/${event.id}/cancel`, { token: t.adminToken })).status, 200);
  await remindersBecome(event.id, soon, []);
});

test('when an event is created less than an hour before it starts, then no reminder is scheduled', async () => {
  const event = await t.createEvent({ startsAt: new Date(Date.now() + 30 * 60_000).toISOString() });
  const [created] = await eventually('event.created on the stream', async () => {
    const found = await streamed(t, 'event.created', event.id);
    return found.length > 0 ? found : undefined;
  });
  assert.ok(created);
  // Applied by the reminder consumer (recorded in the same transaction as its Agenda writes).
  await eventually('the reminder consumer to apply event.created', async () => {
    const { rowCount } = await t.db.query('SELECT 1 FROM consumed_events WHERE consumer = $1 AND event_id = $2', [
      REMINDER_CONSUMER,
      created.id,
    ]);
    return rowCount === 1 ? true : undefined;
  });
  assert.deepEqual(await remindersOf(event.id), {});
});

test('when a reminder job runs for a start the event no longer has, then nothing is announced', async () => {
  const startsAt = new Date(Date.now() + 3 * DAY_MS).toISOString();
  const event = await t.createEvent({ startsAt });
  const [user] = await t.registerUsers(1, 'moved');
  assert.equal(
    (await t.api('POST', `/v1/events/${event.id}/bookings`, { token: user.token, body: { quantity: 1 } })).status,
    201,
  );
  const moved = new Date(Date.now() + 4 * DAY_MS).toISOString();
  assert.equal(
    (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { startsAt: moved } })).status,
    200,
  );

  await t.system.supervisor.scheduler.runNow(JOB.eventReminder, { eventId: event.id, window: '24h', startsAt });
  const sent = await t.db.query('SELECT count(*)::int AS n FROM reminders_sent WHERE event_id = $1', [event.id]);
  assert.equal(sent.rows[0].n, 0);
  const { rows } = await t.db.query(
    "SELECT count(*)::int AS n FROM outbox WHERE payload::jsonb ->> 'type' = 'event.reminder' AND payload::jsonb ->> 'eventId' = $1",
    [event.id],
  );
  assert.equal(rows[0].n, 0);
  assert.deepEqual(await streamed(t, 'event.reminder', event.id), []);
});
