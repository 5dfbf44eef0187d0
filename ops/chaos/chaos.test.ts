// The chaos script's run, small: every fault during one sale, then the
// invariants from the database. The script's own report decides; the test
// asserts each check so a failure names the broken invariant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../platform/logger.js';
import { runChaos } from './run.js';

test('when a thread dies, nats-server and redis-server restart and Postgres connections drop mid-sale, then nothing is lost or oversold', async (t) => {
  const report = await runChaos({ users: 60, perUser: 4, capacity: 200, pauseMs: 600, faultEveryMs: 600, log: createLogger('error') });
  for (const f of report.faults) t.diagnostic(`${(f.atMs / 1000).toFixed(1)} s ${f.name} (${f.tookMs} ms)`);
  t.diagnostic(`${report.sale.created.length} confirmed, ${report.sale.retried} retried attempts`);
  assert.equal(report.faults.length, 4);
  assert.ok(report.sale.retried > 0, 'the faults were felt by clients');
  for (const c of report.checks) assert.ok(c.ok, `${c.what}: ${c.detail}`);
  assert.equal(report.ledger.available, 0, 'the sale sold out despite the faults');
});
