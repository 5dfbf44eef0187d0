// A flash sale through a Postgres restart and one through a full nats-server
// restart, on real servers: every 201 is a stored booking, nothing beyond,
// nothing oversold, every client answered, and bookings succeed again after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../platform/logger.js';
import { runFaultSales } from './run.js';
import { faultTable } from './tally.js';

test('when PostgreSQL and then nats-server restart mid-sale, then nothing is lost, doubled or oversold', async (t) => {
  const rows = await runFaultSales({
    users: 60,
    perUser: 4,
    capacity: 200,
    pauseMs: 400,
    faults: ['pg-restart', 'nats-restart'],
    log: createLogger('error'),
  });
  t.diagnostic(`\n${faultTable(rows)}`);
  for (const r of rows) t.diagnostic(`${r.fault}: ${r.notes.join('; ')}`);
  for (const r of rows) {
    assert.equal(r.lost, 0, `${r.fault}: a 201 not stored`);
    assert.equal(r.doubled, 0, `${r.fault}: a booking no client was told of`);
    assert.equal(r.oversold, 0, `${r.fault}: oversold`);
    assert.ok(r.ledger.ok, `${r.fault}: the seat ledger does not add up`);
    assert.equal(r.unanswered, 0, `${r.fault}: clients left without an answer`);
    assert.equal(r.ledger.available, 0, `${r.fault}: the sale sold out despite the fault`);
    assert.notEqual(r.recoveryMs, null, `${r.fault}: bookings succeeded again after the fault`);
  }
});
