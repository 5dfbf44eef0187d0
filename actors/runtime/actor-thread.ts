// The piscina worker entry for a long-lived actor. One task = one actor
// thread serving a set of shards until the supervisor posts `stop` on the
// control port. If the thread dies, the task rejects and the supervisor runs
// it again on a fresh thread.
import { threadId, workerData, type MessagePort } from 'node:worker_threads';
import { connect } from 'nats';
import type { ActorKind } from '../protocol/index.js';
import type { StartActor } from './actor.js';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { threadMetrics, type MetricsSnapshot } from './metrics.js';
import { serve } from './serve.js';

export interface ActorThreadData {
  kind: ActorKind;
  config: Config;
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

const { kind, config } = workerData as ActorThreadData;

export default async function runActor({ shards, control }: ActorTask): Promise<{ threadId: number }> {
  const log = createLogger(config.logLevel, { actor: kind, thread: threadId });
  const nc = await connect({
    servers: config.natsUrl,
    name: `evently-${kind}-${threadId}`,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
  });
  const { start } = (await import(`../${kind}/actor.js`)) as { start: StartActor };
  const actor = await start({ config, log, shards, threadId, nc });
  const served = serve(nc, kind, shards, actor, log);
  // The subscriptions reach the server before 'ready': the supervisor drains the old thread on
  // 'ready', and a subscription still in this client's buffer would leave the shard unserved.
  await nc.flush();

  const stopRequested = new Promise<void>((resolve) => {
    control.on('message', (m: ControlMessage) => {
      if (m.type === 'stop') resolve();
      // Chaos tooling: die the way a real crash would, mid-work.
      if (m.type === 'crash') process.exit(70);
      if (m.type === 'report') control.postMessage({ type: 'load', inFlight: served.inFlight() } satisfies ThreadReport);
      if (m.type === 'metrics') {
        void threadMetrics().then((metrics) => control.postMessage({ type: 'metrics', metrics } satisfies ThreadReport), (err: unknown) => log.warn({ err }, 'metrics snapshot failed'));
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
