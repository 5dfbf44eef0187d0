// Reads domain messages like consumeShards (durable, at least once), for a
// consumer that reacts to the bulk of a shard's events (every booking):
// - one durable consumer per shard reads the whole shard, in stream order
//   across types; messages with none of the wanted types are acknowledged
//   unread, and other types are left out of the messages handed over.
// - messages are handed over in runs: everything that arrived while the
//   previous run was being applied, up to a limit. A consumer applies a run
//   in one transaction, with one dedupe record per message (freshEvents):
//   during a flash sale that is thousands of bookings per commit. A run that
//   fails is applied again one message at a time, so a bad message is
//   redelivered alone and nothing else waits behind it.
// - before each run it yields to the booking path (`pace`): a background
//   consumer waits while bookings are in flight, up to a bound, so its work
//   comes in fewer, larger runs and the sale keeps the CPU.
import type { JsMsg, NatsConnection } from 'nats';
import type { PoolClient } from 'pg';
import { DOMAIN_STREAM, type DomainEvent, type DomainEventType, type DomainMessage } from '../protocol/index.js';
import { ensureShardConsumer } from './domain-stream.js';
import type { Logger } from './logger.js';
import { DEFAULT_RETRY, readMessage, retryOrGiveUp, type DeadLetterSink, type RetryPolicy } from './poison.js';
import { ACK_WAIT_MS, type ShardConsumer } from './shard-consumer.js';

/** Unacknowledged messages each durable consumer hands this thread at a time. */
const PULL_BATCH = 100;

export interface BatchOptions {
  /** Most messages in one run. */
  maxBatch?: number;
  /** Waits before each run, e.g. while the booking path is busy. */
  pace?: () => Promise<void>;
  deadLetters?: DeadLetterSink;
  retry?: RetryPolicy;
}

export async function consumeShardsInBatches(
  nc: NatsConnection,
  consumer: string,
  shards: readonly number[],
  types: readonly DomainEventType[],
  log: Logger,
  handle: (messages: DomainMessage[]) => Promise<void>,
  options: BatchOptions = {},
): Promise<ShardConsumer> {
  const { maxBatch = 250, pace, deadLetters, retry = DEFAULT_RETRY } = options;
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const queue: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let stopping = false;
  const wanted = new Set<string>(types);
  const subscriptions = await Promise.all(
    shards.map(async (shard) => {
      const name = await ensureShardConsumer(jsm, consumer, shard, undefined, ACK_WAIT_MS);
      return (await js.consumers.get(DOMAIN_STREAM, name)).consume({
        max_messages: PULL_BATCH,
        callback: (m) => {
          queue.push(m);
          wake?.();
        },
      });
    }),
  );

  async function apply(batch: JsMsg[]): Promise<void> {
    const read: { m: JsMsg; message: DomainMessage }[] = [];
    for (const m of batch) {
      const message = await readMessage(m, consumer, log, deadLetters);
      if (!message) continue;
      const events = message.events.filter((e) => wanted.has(e.type));
      if (events.length === 0) m.ack();
      else read.push({ m, message: events.length === message.events.length ? message : { id: message.id, events } });
    }
    if (read.length === 0) return;
    try {
      await handle(read.map((r) => r.message));
      for (const r of read) r.m.ack();
      return;
    } catch (err) {
      if (read.length === 1) return retryOrGiveUp(read[0]!.m, consumer, err, log, deadLetters, retry);
      log.warn({ err, consumer, messages: read.length }, 'domain message run failed; applying its messages one by one');
    }
    for (const { m, message } of read) {
      try {
        await handle([message]);
        m.ack();
      } catch (err) {
        await retryOrGiveUp(m, consumer, err, log, deadLetters, retry);
      }
    }
  }

  const loop = (async () => {
    while (!stopping) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (pace) await pace();
      if (stopping) break;
      await apply(queue.splice(0, maxBatch));
    }
  })().catch((err: unknown) => log.error({ err, consumer }, 'domain event batch consumer ended'));

  return {
    async stop() {
      stopping = true;
      for (const s of subscriptions) s.stop();
      wake?.();
      await loop;
      // Whatever was handed over but not applied comes back to the next consumer at once.
      for (const m of queue.splice(0)) m.nak();
    },
  };
}

/**
 * Claims each message for `consumer`, in the transaction of the effect, and
 * returns the events of those it had not applied before, in order. A
 * redelivery in the same run as its original is applied once.
 */
export async function freshEvents(
  client: PoolClient,
  consumer: string,
  messages: readonly DomainMessage[],
): Promise<DomainEvent[]> {
  const claimed = await appliedOnceEach(
    client,
    consumer,
    messages.map((m) => m.id),
  );
  return messages.flatMap((m) => (claimed.delete(m.id.toLowerCase()) ? m.events : []));
}

/**
 * Records that `consumer` applied each id, in the transaction of the effect,
 * and returns the ids it had not applied before.
 */
export async function appliedOnceEach(
  client: PoolClient,
  consumer: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const { rows } = await client.query<{ event_id: string }>({
    name: 'consumed-events.claim-each',
    text: `INSERT INTO consumed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])
           ON CONFLICT DO NOTHING RETURNING event_id`,
    values: [consumer, ids],
  });
  return new Set(rows.map((r) => r.event_id));
}
