// Reads the domain messages of some types on a set of shards through durable
// consumers, one per shard and type, each in stream order, and hands their
// events to a handler one at a time. A message whose events all succeed is
// acked; one whose handler throws is redelivered after a backoff, and the
// events it had applied are skipped then (see appliedOnce): delivery is at
// least once. A message that can never be applied is ended (poison.ts).
import type { JsMsg, NatsConnection } from 'nats';
import type { PoolClient } from 'pg';
import { DOMAIN_STREAM, type DomainEvent, type DomainEventType, type DomainMessage } from '../protocol/index.js';
import { ensureShardConsumer } from './domain-stream.js';
import type { Logger } from './logger.js';
import { readMessage, retryOrGiveUp, type DeadLetterSink } from './poison.js';

export const ACK_WAIT_MS = 30_000;

export interface ShardConsumer {
  stop(): Promise<void>;
}

export async function consumeShards(
  nc: NatsConnection,
  consumer: string,
  shards: readonly number[],
  types: readonly DomainEventType[],
  log: Logger,
  handle: (event: DomainEvent) => Promise<void>,
  deadLetters?: DeadLetterSink,
): Promise<ShardConsumer> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const wanted = new Set<string>(types);
  const applyAll = async (message: DomainMessage) => {
    for (const event of message.events) if (wanted.has(event.type)) await handle(event);
  };
  const loops = await Promise.all(
    shards.flatMap((shard) =>
      types.map(async (type) => {
        const name = await ensureShardConsumer(jsm, consumer, shard, type, ACK_WAIT_MS);
        const messages = await (await js.consumers.get(DOMAIN_STREAM, name)).consume({ max_messages: 100 });
        const done = (async () => {
          for await (const m of messages) await settle(m, consumer, log, applyAll, deadLetters);
        })().catch((err: unknown) => log.error({ err, consumer, shard }, 'domain event consumer ended'));
        return { messages, done };
      }),
    ),
  );

  return {
    async stop() {
      for (const l of loops) l.messages.stop();
      await Promise.all(loops.map((l) => l.done));
    },
  };
}

/**
 * Hands one message to `handle` and settles it: acknowledged when applied,
 * redelivered after a backoff when the handler throws, ended when it can
 * never be applied.
 */
export async function settle(
  m: JsMsg,
  consumer: string,
  log: Logger,
  handle: (message: DomainMessage) => Promise<void>,
  deadLetters?: DeadLetterSink,
): Promise<void> {
  const message = await readMessage(m, consumer, log, deadLetters);
  if (!message) return;
  try {
    await handle(message);
    m.ack();
  } catch (err) {
    await retryOrGiveUp(m, consumer, err, log, deadLetters);
  }
}

/**
 * Records that `consumer` applied `eventId`, inside the transaction of the
 * effect. False means it was applied before: do nothing.
 */
export async function appliedOnce(client: PoolClient, consumer: string, eventId: string): Promise<boolean> {
  const { rowCount } = await client.query({
    name: 'consumed-events.claim',
    text: 'INSERT INTO consumed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    values: [consumer, eventId],
  });
  return rowCount === 1;
}
