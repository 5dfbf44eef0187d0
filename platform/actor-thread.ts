// The piscina worker entry for a long-lived actor. One task = one actor
// thread serving a set of shards until the supervisor posts `stop` on the
// control port. If the thread dies, the task rejects and the supervisor runs
// it again on a fresh thread.
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { threadId, workerData, type MessagePort } from 'node:worker_threads';
import { connect } from 'nats';
import type { ActorKind } from '../protocol/index.js';
import { BACKGROUND_KINDS, niceOf, type StartActor } from './actor.js';
import type { Config } from './config.js';
import { guardCommits, LeaseDeadlines } from './lease-deadlines.js';
import { createLogger, type Logger } from './logger.js';
import { natsOptions } from './nats-connect.js';
import { threadMetrics, type MetricsSnapshot } from './metrics.js';
import { Pressure } from './pressure.js';
import { serve } from './serve.js';

export interface ActorThreadData {
  kind: ActorKind;
  /** URL of the kind's module exporting `start`. */
  module: string;
  config: Config;
  /** The supervisor's booking-path pressure cells, shared by all its threads. */
  pressure: SharedArrayBuffer;
  /** Sharded pools: each shard's lease deadline, written by the supervisor's lease keeper. */
  leaseDeadlines?: SharedArrayBuffer;
}

export interface ActorTask {
  shards: number[];
  control: MessagePort;
}

export type ControlMessage = { type: 'stop' } | { type: 'crash' } | { type: 'report' } | { type: 'metrics' };
export type ThreadReport =
  | { type: 'ready'; threadId: number }
  | { type: 'load'; inFlight: number }
  | { type: 'metrics'; metrics: MetricsSnapshot };

const { kind, module: actorModule, config, pressure: pressureCells, leaseDeadlines } = workerData as ActorThreadData;
const pressure = new Pressure(pressureCells);
nameThread(`ev-${kind}`);
const background = BACKGROUND_KINDS.has(kind);
const yieldToForeground =
  background && config.backgroundYieldMs > 0
    ? () => pressure.yieldTo(config.backgroundYieldMs)
    : () => Promise.resolve();

export default async function runActor({ shards, control }: ActorTask): Promise<{ threadId: number }> {
  const log = createLogger(config.logLevel, { actor: kind, thread: threadId });
  // No commit for a shard past its lease, even if the supervisor is too busy to end this thread in time.
  if (leaseDeadlines) guardCommits(new LeaseDeadlines(leaseDeadlines), shards);
  const nc = await connect(
    natsOptions(config, 'actors', {
      name: `evently-${kind}-${threadId}`,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
    }),
  );
  const { start } = (await import(actorModule)) as { start: StartActor };
  const actor = await start({ config, log, shards, threadId, nc, pressure, yieldToForeground });
  if (!config.identityKey) throw new Error('EVENTLY_IDENTITY_KEY is not set: actors could not tell who asks');
  const identityKeys = [config.identityKey, ...(config.identityPreviousKey ? [config.identityPreviousKey] : [])];
  const served = serve(nc, kind, shards, actor, log, identityKeys);
  // The subscriptions reach the server before 'ready': the supervisor drains the old thread on
  // 'ready', and a subscription still in this client's buffer would leave the shard unserved.
  await nc.flush();
  // Lowered only now: a thread niced before it has loaded its modules and connected can take
  // minutes to start behind busy foreground work, and a start that times out serves nobody.
  const nice = niceOf(kind, config);
  if (nice > 0) lowerPriority(nice, log);

  const stopRequested = new Promise<void>((resolve) => {
    control.on('message', (m: ControlMessage) => {
      if (m.type === 'stop') resolve();
      // Chaos tooling: die the way a real crash would, mid-work.
      if (m.type === 'crash') process.exit(70);
      if (m.type === 'report')
        control.postMessage({ type: 'load', inFlight: served.inFlight() } satisfies ThreadReport);
      if (m.type === 'metrics') {
        void threadMetrics().then(
          (metrics) => control.postMessage({ type: 'metrics', metrics } satisfies ThreadReport),
          (err: unknown) => log.warn({ err }, 'metrics snapshot failed'),
        );
      }
    });
  });
  control.postMessage({ type: 'ready', threadId } satisfies ThreadReport);
  log.info({ shards }, 'actor serving');

  await stopRequested;
  await served.drain();
  await actor.stop();
  await nc.close();
  control.close();
  log.info('actor stopped');
  return { threadId };
}

/**
 * Names this OS thread after its actor (Linux keeps 15 characters), so that `top -H`, `ps -L` and
 * /proc/<pid>/task/<tid>/comm say which actor a busy thread is; they all said `node`. A thread it
 * starts later (identity's hashing threads, a libuv pool thread it happens to create) inherits the name.
 */
function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or no procfs: the name is for people looking, nothing depends on it.
  }
}

/** On Linux a nice value belongs to the thread (pid 0 = the calling thread), so only this actor's thread yields. */
function lowerPriority(nice: number, log: Logger): void {
  try {
    setPriority(0, nice);
  } catch (err) {
    log.warn({ err }, "could not lower this thread's priority");
  }
}
