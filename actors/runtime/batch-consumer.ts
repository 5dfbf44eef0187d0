// Reads domain events like consumeShards (durable, at least once), for a
// consumer that reacts to the bulk of a shard's events (every booking):
// - one durable consumer per shard reads the whole shard, in stream order
//   across types; events of other types are acknowledged unread. For such a
//   consumer that costs little more than reading its types alone, with one
//   consumer per shard instead of one per shard and type.
// - events are handed over in batches: everything that arrived while the
//   previous batch was being applied, up to a limit. A consumer that writes a
//   row per event then pays one transaction per batch instead of one per
//   event, which during a flash sale is hundreds of bookings per commit; when
//   idle, a batch is a single event and nothing waits. A batch that fails is
//   applied again one event at a time, so a bad event is redelivered alone.
import type { JsMsg, NatsConnection } from 'nats';
import type { PoolClient } from 'pg';
import { DOMAIN_STREAM, type DomainEvent, type DomainEventType } from '../protocol/index.js';
import { ensureShardConsumer } from './domain-stream.js';
import type { Logger } from './logger.js';
import { ACK_WAIT_MS, readEnvelope, retryDelayMs, type ShardConsumer } from './shard-consumer.js';

/** Unacknowledged messages each durable consumer hands this thread at a time. */
const PULL_BATCH = 100;

export async function consumeShardsInBatches(
  nc: NatsConnection, consumer: string, shards: readonly number[], types: readonly DomainEventType[], log: Logger,
  handle: (events: DomainEvent[]) => Promise<void>, maxBatch = 250,
): Promise<ShardConsumer> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const queue: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let stopping = false;
  const wanted = new Set<string>(types);
  const subscriptions = await Promise.all(shards.map(async (shard) => {
    const name = await ensureShardConsumer(jsm, consumer, shard, undefined, ACK_WAIT_MS);
    return (await js.consumers.get(DOMAIN_STREAM, name)).consume({
      max_messages: PULL_BATCH,
      callback: (m) => {
        queue.push(m);
        wake?.();
      },
    });
  }));

  const failed = (m: JsMsg, event: DomainEvent, err: unknown) => {
    const retryInMs = retryDelayMs(m);
    log.warn({ err, consumer, type: event.type, id: event.id, retryInMs }, 'domain event failed; will be redelivered');
    m.nak(retryInMs);
  };

  async function apply(batch: JsMsg[]): Promise<void> {
    const read = batch.flatMap((m) => {
      const event = readEnvelope(m, log);
      if (event && !wanted.has(event.type)) m.ack();
      return event && wanted.has(event.type) ? [{ m, event }] : [];
    });
    if (read.length === 0) return;
    try {
      await handle(read.map((r) => r.event));
      for (const r of read) r.m.ack();
      return;
    } catch (err) {
      if (read.length === 1) return failed(read[0].m, read[0].event, err);
      log.warn({ err, consumer, events: read.length }, 'domain event batch failed; applying its events one by one');
    }
    for (const { m, event } of read) {
      try {
        await handle([event]);
        m.ack();
      } catch (err) {
        failed(m, event, err);
      }
    }
  }

  const loop = (async () => {
    while (!stopping) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
        continue;
      }
      await apply(queue.splice(0, maxBatch));
    }
  })().catch((err: Error) => log.error({ err, consumer }, 'domain event batch consumer ended'));

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
 * appliedOnce for a batch: records that `consumer` applied each event, in the
 * transaction of the effect, and returns the ids it had not applied before.
 */
export async function appliedOnceEach(client: PoolClient, consumer: string, eventIds: readonly string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ event_id: string }>({
    name: 'consumed-events.claim-each',
    text: `INSERT INTO consumed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])
           ON CONFLICT DO NOTHING RETURNING event_id`,
    values: [consumer, eventIds],
  });
  return new Set(rows.map((r) => r.event_id));
}
