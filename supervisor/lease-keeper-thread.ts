// The worker thread entry of the lease keeper (lease-keeper.ts): its own
// event loop and its own NATS connection, so renewals are never queued
// behind the supervisor's main thread. It reports to the supervisor over
// the thread's port and takes its commands from it.
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from 'nats';
import type { MemberValue } from '../protocol/index.js';
import type { Config } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { natsOptions } from '../platform/nats-connect.js';
import { LeaseKeeper, type KeeperCommand, type KeeperReport } from './lease-keeper.js';

export interface KeeperThreadData {
  config: Config;
  me: MemberValue;
}

const { config, me } = workerData as KeeperThreadData;
const port = parentPort;
if (!port) throw new Error('lease-keeper-thread runs as a worker thread');
const report = (r: KeeperReport) => port.postMessage(r);
const log = createLogger(config.logLevel, { leases: true, supervisor: me.id });

try {
  const nc = await connect(
    natsOptions(config, 'supervisor', { name: 'evently-lease-keeper', noAsyncTraces: true, maxReconnectAttempts: -1 }),
  );
  const keeper = new LeaseKeeper(nc, me, { shards: config.shards, ttlMs: config.leaseTtlMs, log, report });
  port.on('message', (c: KeeperCommand) => keeper.command(c));
  await keeper.start();
} catch (err) {
  report({ type: 'failed', message: (err as Error).message });
}
