// The analytics actor reads each of its shards through one durable consumer
// of every event type (`analytics-<shard>`, filter evently.domain.<shard>.>),
// in stream order, one event at a time. Order is what makes the anomaly
// checks deterministic: each booking is judged against the minutes before
// it exactly as the stream has them. One consumer per shard (not per shard
// and type, as the waitlist does) because analytics applies most of what a
// shard carries, and the rest is acknowledged without touching the database.
import { AckPolicy, DeliverPolicy, nanos, type NatsConnection } from 'nats';
import { DOMAIN_STREAM, domainShardFilter, type DomainEvent } from '../protocol/index.js';
import type { Logger } from '../runtime/logger.js';
import { settle } from '../runtime/shard-consumer.js';

const ACK_WAIT_MS = 30_000;

export interface StreamConsumer {
  stop(): Promise<void>;
}

export async function consumeShardStreams(
  nc: NatsConnection, consumer: string, shards: readonly number[], log: Logger, handle: (event: DomainEvent) => Promise<void>,
): Promise<StreamConsumer> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const loops = await Promise.all(shards.map(async (shard) => {
    const durable = `${consumer}-${shard}`;
    try {
      await jsm.consumers.info(DOMAIN_STREAM, durable);
    } catch {
      await jsm.consumers.add(DOMAIN_STREAM, {
        durable_name: durable, filter_subject: domainShardFilter(shard), ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All, ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1000,
      });
    }
    const messages = await (await js.consumers.get(DOMAIN_STREAM, durable)).consume({ max_messages: 100 });
    const done = (async () => {
      for await (const m of messages) await settle(m, durable, log, handle);
    })().catch((err: Error) => log.error({ err, durable }, 'domain event consumer ended'));
    return { messages, done };
  }));
  return {
    async stop() {
      for (const l of loops) l.messages.stop();
      await Promise.all(loops.map((l) => l.done));
    },
  };
}
