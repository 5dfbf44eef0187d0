// `node dist/ops/chaos/index.js`: flash sales under faults, one per fault,
// then the clients' 201s against the bookings table. Exits 1 if anything was
// lost, doubled or oversold.
import { parseArgs } from 'node:util';
import { createLogger } from '../../platform/logger.js';
import { namespacesUnavailable } from './netns.js';
import { runPartition } from './partition.js';
import { FAULT_NAMES, FAULTS, runFaultSales, type FaultName } from './run.js';
import { faultTable, type FaultRow } from './tally.js';

const usage = `usage: node dist/ops/chaos/index.js [options]

Starts an Evently of its own on loopback (nats-server, redis-server, PostgreSQL
in a temporary folder; supervisor and edge in this process) and runs one flash
sale per fault, with clients that retry as API.md allows (same Idempotency-Key).
Once a quarter of the seats are sold the fault strikes:
${FAULT_NAMES.map((f) => `  ${f.padEnd(14)} ${FAULTS[f].what}`).join('\n')}
  partition      two supervisors, each in a network namespace of its own (root,
                 ip netns); the one serving the sale is cut off from NATS until
                 the other has its shards, then healed. Its own servers; the
                 supervisors' logs must show each shard fenced by the cut-off
                 one (lease revision) before the other claimed it. Skipped with
                 a message where namespaces cannot be made.
Then prints a table per fault: requests (attempts), 201s, 5xx or no answer,
orders never answered, lost (a 201 not in the bookings table), doubled (a
booking no client was told of), oversold, how long the fault lasted, and the
recovery time (fault start to the first 201 after it). Exits 1 on any loss.

Options:
  --fault a,b        faults to inject (default: all, in the order above)
  --users N          buyers per sale (default 100)
  --per-user N       bookings each makes, one seat each; also the per-user limit (default 6)
  --capacity N       seats per sale (default 500: each sale sells out)
  --pause-ms N       pause between one user's bookings (default 400)
  --lease-ttl-ms N   shard lease TTL in the partition drill (default 6000)
  --log-level L      pino level for the system's own log (default warn)
  --help             print this and exit`;

const { values } = parseArgs({
  options: {
    fault: { type: 'string' },
    users: { type: 'string', default: '100' },
    'per-user': { type: 'string', default: '6' },
    capacity: { type: 'string', default: '500' },
    'pause-ms': { type: 'string', default: '400' },
    'lease-ttl-ms': { type: 'string', default: '6000' },
    'log-level': { type: 'string', default: 'warn' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const fail = (msg: string): never => {
  console.error(`chaos: ${msg}\n\n${usage}`);
  process.exit(2);
};
const n = (name: 'users' | 'per-user' | 'capacity' | 'pause-ms' | 'lease-ttl-ms') => {
  const v = Number(values[name]);
  return Number.isInteger(v) && v >= 1 ? v : fail(`--${name} must be a positive integer`);
};
const asked = values.fault?.split(',') ?? [...FAULT_NAMES, 'partition'];
for (const f of asked) if (f !== 'partition' && !FAULT_NAMES.includes(f as FaultName)) fail(`unknown fault "${f}"`);
const faults = asked.filter((f): f is FaultName => f !== 'partition');

const log = createLogger(values['log-level'], { process: 'chaos' });
const sale = { users: n('users'), perUser: n('per-user'), capacity: n('capacity'), pauseMs: n('pause-ms'), log };
const rows: FaultRow[] = faults.length > 0 ? await runFaultSales({ ...sale, faults }) : [];
if (asked.includes('partition')) {
  const why = await namespacesUnavailable();
  if (why) console.log(`\npartition: SKIPPED, ${why}`);
  else rows.push(await runPartition({ ...sale, leaseTtlMs: n('lease-ttl-ms') }));
}
console.log(`\n${sale.users} users × ${sale.perUser} bookings, ${sale.capacity} seats per sale\n`);
console.log(faultTable(rows));
for (const r of rows.filter((row) => row.notes.length > 0)) console.log(`\n${r.fault}:\n  ${r.notes.join('\n  ')}`);
console.log(
  rows.every((r) => r.ok) ? '\nNothing lost, doubled or oversold.' : '\nSOMETHING WENT WRONG: see the rows above.',
);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
