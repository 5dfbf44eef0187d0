// Reads the domain events of some types on a set of shards through durable
// consumers, one per shard and type, each in stream order. A handler that succeeds acks; one that throws
// is redelivered after a backoff. Handlers apply each event once themselves
// (see appliedOnce): delivery is at least once.
import type { JsMsg, NatsConnection } from 'nats';
import type { PoolClient } from 'pg';
import { Compile } from 'typebox/compile';
import { DOMAIN_STREAM, DomainEventEnvelope, type DomainEvent, type DomainEventType } from '../protocol/index.js';
import { ensureShardConsumer } from './domain-stream.js';
import type { Logger } from './logger.js';

const envelope = Compile(DomainEventEnvelope);
export const ACK_WAIT_MS = 30_000;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 10_000;

/** How long a failed event waits before it is delivered again: doubling, capped. */
export const retryDelayMs = (m: JsMsg): number => Math.min(RETRY_MIN_MS * 2 ** Math.max(0, m.info.redeliveryCount - 1), RETRY_MAX_MS);

/** The event a message carries, or undefined (and the message terminated) when it can never be applied. */
export function readEnvelope(m: JsMsg, log: Logger): DomainEvent | undefined {
  let event: unknown;
  try {
    event = m.json();
  } catch {
    event = undefined;
  }
  if (envelope.Check(event)) return event as DomainEvent;
  // A message that can never be applied must not be redelivered forever.
  log.error({ subject: m.subject, seq: m.seq }, 'domain event is not valid; dropped');
  m.term();
  return undefined;
}

export interface ShardConsumer {
  stop(): Promise<void>;
}

export async function consumeShards(
  nc: NatsConnection, consumer: string, shards: readonly number[], types: readonly DomainEventType[], log: Logger,
  handle: (event: DomainEvent) => Promise<void>,
): Promise<ShardConsumer> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const loops = await Promise.all(shards.flatMap((shard) => types.map(async (type) => {
    const name = await ensureShardConsumer(jsm, consumer, shard, type, ACK_WAIT_MS);
    const messages = await (await js.consumers.get(DOMAIN_STREAM, name)).consume({ max_messages: 100 });
    const done = (async () => {
      for await (const m of messages) await settle(m, consumer, log, handle);
    })().catch((err: Error) => log.error({ err, consumer, shard }, 'domain event consumer ended'));
    return { messages, done };
  })));

  return {
    async stop() {
      for (const l of loops) l.messages.stop();
      await Promise.all(loops.map((l) => l.done));
    },
  };
}

/**
 * Hands one message to `handle` and settles it: acknowledged when applied,
 * redelivered after a backoff when the handler throws, terminated when it can
 * never be applied.
 */
export async function settle(m: JsMsg, consumer: string, log: Logger, handle: (event: DomainEvent) => Promise<void>): Promise<void> {
  const event = readEnvelope(m, log);
  if (!event) return;
  try {
    await handle(event);
    m.ack();
  } catch (err) {
    const delay = retryDelayMs(m);
    log.warn({ err, consumer, type: event.type, id: event.id, retryInMs: delay }, 'domain event failed; will be redelivered');
    m.nak(delay);
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
