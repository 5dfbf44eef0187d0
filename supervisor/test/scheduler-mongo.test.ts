// Agenda on MongoDB (MONGO_URL), as docker-compose runs it: reminders are
// scheduled through it and a due one runs once with two schedulers. No MongoDB
// server can be installed on every machine the suite runs on, so without
// MONGO_URL this says plainly that it was skipped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../platform/config.js';
import { startTestSystem } from '../../ops/testing/harness.js';
import { JOB } from '../scheduler/job-names.js';
import { eventually, reminderFiresOnceWithTwoSchedulers } from './fixtures/scheduler.js';

test('when MONGO_URL is set, then Agenda keeps its jobs in MongoDB and a due reminder runs once with two schedulers', async (ctx) => {
  const { mongoUrl } = loadConfig();
  if (!mongoUrl) {
    ctx.skip('MONGO_URL not set: MongoDB backend not tested');
    return;
  }
  const t = await startTestSystem({ mongoUrl, schedulerPollMs: 1000 });
  try {
    const { scheduler } = t.system.supervisor;
    assert.equal(scheduler.backend, 'mongodb');
    const event = await t.createEvent({ startsAt: new Date(Date.now() + 3 * 86_400_000).toISOString() });
    await eventually('two reminder jobs in MongoDB', async () => {
      const { jobs } = await scheduler.agenda.queryJobs({ name: JOB.eventReminder, data: { eventId: event.id } });
      return jobs.length === 2 ? jobs : undefined;
    });
    assert.equal((await t.api('POST', `/v1/events/${event.id}/cancel`, { token: t.adminToken })).status, 200);
    await eventually('the reminders removed', async () => {
      const { jobs } = await scheduler.agenda.queryJobs({ name: JOB.eventReminder, data: { eventId: event.id } });
      return jobs.length === 0 ? true : undefined;
    });
    await reminderFiresOnceWithTwoSchedulers(t);
  } finally {
    await t.stop();
  }
});
