// `node dist/ops/chaos/index.js`: a flash sale under faults, then the
// invariants read from the database. Exits 1 if anything was lost.
import { parseArgs } from 'node:util';
import { createLogger } from '../../platform/logger.js';
import { runChaos } from './run.js';

const usage = `usage: node dist/ops/chaos/index.js [options]

Starts an Evently of its own on loopback (nats-server, redis-server, PostgreSQL
in a temporary folder; supervisor and edge in this process), runs a flash sale
with clients that retry as docs/api.md allows (same Idempotency-Key), and during it:
  1. kills the inventory thread serving the event (the pool replaces it)
  2. restarts nats-server (same port; JetStream keeps its store)
  3. restarts redis-server (its booking locks are gone)
  4. drops every Postgres connection of the app (pg_terminate_backend)
Then reads the database: every 201 stored, nothing beyond, no oversell, nobody
over the limit, every client answered. Prints a report; exits 1 on any loss.

Options:
  --users N          buyers (default 200)
  --per-user N       bookings each makes, one seat each; also the per-user limit (default 10)
  --capacity N       seats (default 1500: the sale sells out near its end)
  --pause-ms N       pause between one user's bookings (default 600)
  --fault-every-ms N pause between faults (default 1500)
  --log-level L      pino level for the system's own log (default warn)
  --help             print this and exit`;

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '200' }, 'per-user': { type: 'string', default: '10' }, capacity: { type: 'string', default: '1500' },
    'pause-ms': { type: 'string', default: '600' }, 'fault-every-ms': { type: 'string', default: '1500' },
    'log-level': { type: 'string', default: 'warn' }, help: { type: 'boolean', default: false },
  },
});
if (values.help) { console.log(usage); process.exit(0); }
const n = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 1) { console.error(`chaos: --${name} must be a positive integer\n\n${usage}`); process.exit(2); }
  return v;
};

const report = await runChaos({
  users: n('users'), perUser: n('per-user'), capacity: n('capacity'), pauseMs: n('pause-ms'), faultEveryMs: n('fault-every-ms'),
  log: createLogger(values['log-level'], { process: 'chaos' }),
});
console.log('\n| at | fault | took |\n| ---: | --- | ---: |');
for (const f of report.faults) console.log(`| ${(f.atMs / 1000).toFixed(1)} s | ${f.name} | ${f.tookMs} ms |`);
console.log(`\nsale: ${report.sale.created.length} bookings confirmed, ${report.sale.retried} retried attempts, refusals ${JSON.stringify([...report.sale.refused])}\n`);
console.log('| invariant | result | detail |\n| --- | --- | --- |');
for (const c of report.checks) console.log(`| ${c.what} | ${c.ok ? 'OK' : '**FAILED**'} | ${c.detail} |`);
console.log(report.ok ? '\nNothing lost.' : '\nSOMETHING WAS LOST: see the failed rows above.');
process.exit(report.ok ? 0 : 1);
