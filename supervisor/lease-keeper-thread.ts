// The worker thread entry of the lease keeper (lease-keeper.ts): its own
// event loop and its own NATS connection, so renewals are never queued
// behind the supervisor's main thread. It reports to the supervisor over
// the thread's port and takes its commands from it.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from 'nats';
import type { MemberValue } from '../protocol/index.js';
import type { Config } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { LeaseDeadlines } from '../platform/lease-deadlines.js';
import { natsOptions } from '../platform/nats-connect.js';
import { LeaseKeeper, type KeeperCommand, type KeeperReport } from './lease-keeper.js';

export interface KeeperThreadData {
  config: Config;
  me: MemberValue;
  leaseDeadlines: SharedArrayBuffer;
}

const { config, me, leaseDeadlines } = workerData as KeeperThreadData;
const port = parentPort;
if (!port) throw new Error('lease-keeper-thread runs as a worker thread');
const report = (r: KeeperReport) => port.postMessage(r);
const log = createLogger(config.logLevel, { leases: true, supervisor: me.id });
/**
 * On a starved machine (load average 45 on two cores) this thread's timers ran 2 s late: ahead of the
 * crowd it renews and fences on time. It uses almost no CPU, so it takes nothing from anyone. On Linux a
 * nice value belongs to the thread (pid 0 = this one); without the privilege it stays at the process's.
 */
const KEEPER_NICE = -10;
try {
  setPriority(0, KEEPER_NICE);
} catch (err) {
  log.info({ err: (err as Error).message }, 'the lease keeper runs at the normal priority');
}

try {
  const nc = await connect(
    natsOptions(config, 'supervisor', { name: 'evently-lease-keeper', noAsyncTraces: true, maxReconnectAttempts: -1 }),
  );
  const keeper = new LeaseKeeper(nc, me, {
    shards: config.shards,
    ttlMs: config.leaseTtlMs,
    log,
    report,
    deadlines: new LeaseDeadlines(leaseDeadlines),
  });
  port.on('message', (c: KeeperCommand) => keeper.command(c));
  await keeper.start();
} catch (err) {
  report({ type: 'failed', message: (err as Error).message });
}
