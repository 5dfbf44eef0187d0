// The JetStream stream that keeps domain events, and the durable consumers
// that read it. Created (or brought up to date) by the supervisor at start.
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from 'nats';
import {
  DOMAIN_ALL,
  DOMAIN_STREAM,
  domainShardFilter,
  domainSubject,
  type DomainEventType,
} from '../protocol/index.js';

const DAY_MS = 24 * 3600 * 1000;
/** How long the stream keeps events: longer than any consumer may reasonably be down. */
export const STREAM_MAX_AGE_MS = 7 * DAY_MS;
/** Publishes with the same Nats-Msg-Id within this window are stored once. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export async function ensureDomainStream(jsm: JetStreamManager): Promise<void> {
  const config: Partial<StreamConfig> = {
    name: DOMAIN_STREAM,
    subjects: [DOMAIN_ALL],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(STREAM_MAX_AGE_MS),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  try {
    await jsm.streams.info(DOMAIN_STREAM);
  } catch {
    await jsm.streams.add(config);
  }
}

/**
 * The durable consumer of one consumer kind on one shard, for one event type.
 * Per type, because a consumer that reacts to three types must not be handed
 * every booking of a flash sale (nats-server 2.9 takes one filter subject per
 * consumer); events of different types carry no order a reaction relies on.
 * Without a type, the consumer reads the whole shard in order: for a consumer
 * that reacts to the bulk of a shard's events anyway (bookings), one consumer
 * per shard instead of one per type.
 */
export const durableName = (consumer: string, shard: number, type?: DomainEventType): string =>
  type ? `${consumer}-${shard}-${type.replaceAll('.', '-')}` : `${consumer}-${shard}`;

/** Creates the durable, explicitly acknowledged consumer if it is missing. */
export async function ensureShardConsumer(
  jsm: JetStreamManager,
  consumer: string,
  shard: number,
  type: DomainEventType | undefined,
  ackWaitMs: number,
): Promise<string> {
  const name = durableName(consumer, shard, type);
  try {
    await jsm.consumers.info(DOMAIN_STREAM, name);
  } catch {
    await jsm.consumers.add(DOMAIN_STREAM, {
      durable_name: name,
      filter_subject: type ? domainSubject(type, shard) : domainShardFilter(shard),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 1000,
    });
  }
  return name;
}
