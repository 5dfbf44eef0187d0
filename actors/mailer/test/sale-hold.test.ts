// During a sale the mailer claims only mail old enough (EVENTLY_MAIL_SALE_HOLD_MS), against real
// Postgres. The mailer threads are off here, so only this test claims.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { claimDue } from '../deliveries.js';
import { startTestSystem, type TestSystem } from '../../../ops/testing/harness.js';

let t: TestSystem | undefined;
before(async () => {
  t = await startTestSystem({ disabledPools: ['mailer'] });
});
after(async () => {
  await t?.stop();
});
const db = () => {
  if (!t) throw new Error('the test system did not start');
  return t.db;
};

const plan = async (dueSecondsAgo: number) => {
  const id = randomUUID();
  await db().query(
    `INSERT INTO mail_deliveries (id, dedupe_key, template, domain_event_id, recipient, data, next_attempt_at)
     VALUES ($1, $4, 'booking-confirmed', $2, 'held@example.test', '{}', now() - $3::int * interval '1 second')`,
    [id, randomUUID(), dueSecondsAgo, `sale-hold:${id}`],
  );
  return id;
};

test('when the hold is a minute, then only mail due over a minute ago is claimed, and with no hold the rest', async () => {
  const old = await plan(90);
  const fresh = await plan(5);
  const held = await claimDue(db(), 100, 60_000, 60_000);
  assert.ok(
    held.some((m) => m.id === old),
    'due 90 s ago: claimed',
  );
  assert.ok(!held.some((m) => m.id === fresh), 'due 5 s ago: held');
  const rest = await claimDue(db(), 100, 60_000, 0);
  assert.ok(
    rest.some((m) => m.id === fresh),
    'no hold: claimed',
  );
  assert.ok(!rest.some((m) => m.id === old), 'already claimed: its lease runs');
});
