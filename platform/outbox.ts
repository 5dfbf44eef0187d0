// The transactional outbox. A change and the domain events announcing it
// commit together (recordEvents, inside the change's transaction), batched
// into domain messages (see protocol/domain-events.ts); a relay
// publishes them to JetStream afterwards and deletes them once the stream has
// acknowledged. A process that dies between commit and publish leaves its rows
// behind for the next relay: nothing is lost. A row published but not yet
// deleted is published again; JetStream drops the duplicate by Nats-Msg-Id
// within its window, and consumers dedupe by event id beyond it.
import type { PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  domainSubject,
  shardOf,
  type Availability,
  type DomainEvent,
  type DomainMessage,
  type DomainEventOf,
  type DomainEventType,
} from '../protocol/index.js';
import { whereIf, type Statement } from './sql-parts.js';

export type NewDomainEvent = {
  [T in DomainEventType]: Pick<
    DomainEventOf<T>,
    'type' | 'eventId' | 'version' | 'availability' | 'requestId' | 'data'
  >;
}[DomainEventType];

/** Where and when a change happened: the event row after it, and the request that made it. */
export interface ChangeOf {
  eventId: string;
  version: number;
  availability: Availability | null;
  requestId: string;
}

/** Builds one event of the protocol's types (its data shape checked by the compiler). */
export const domainEvent = <T extends DomainEventType>(
  type: T,
  change: ChangeOf,
  data: DomainEventOf<T>['data'],
): NewDomainEvent => ({ type, ...change, data }) as NewDomainEvent;

/**
 * The statement writing events into the outbox, as part of the caller's
 * transaction: one row, and later one stream message, per run of consecutive
 * events of one type on one shard. A booking batch is one row however many
 * bookings it holds; an event's cancellation (its bookings, its holds, the
 * event) is three. Order within and across the rows is the callers' order.
 * Returns the events as they will be published (with their ids and time).
 * With `onlyIf` (sql-parts' returnedRow), nothing is written without it.
 */
export function outboxInsert(
  shardCount: number,
  events: readonly NewDomainEvent[],
  onlyIf?: string,
): { statement: Statement; events: DomainEvent[] } {
  const occurredAt = new Date().toISOString();
  const full = events.map((e) => ({ ...e, id: uuidv7(), occurredAt }));
  const messages: { shard: number; subject: string; message: DomainMessage }[] = [];
  for (const event of full) {
    const shard = shardOf(event.eventId, shardCount);
    const subject = domainSubject(event.type, shard);
    const last = messages.at(-1);
    if (last?.subject === subject) last.message.events.push(event);
    else messages.push({ shard, subject, message: { id: uuidv7(), events: [event] } });
  }
  const statement = {
    text: `INSERT INTO outbox (shard, id, subject, payload)
           SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[]) ${whereIf(onlyIf)}`,
    values: [
      messages.map((m) => m.shard),
      messages.map((m) => m.message.id),
      messages.map((m) => m.subject),
      messages.map((m) => JSON.stringify(m.message)),
    ],
  };
  return { statement, events: full };
}

/** Writes outboxInsert's statement (nothing for no events) in the caller's transaction. */
export async function recordEvents(
  client: PoolClient,
  shardCount: number,
  events: readonly NewDomainEvent[],
): Promise<DomainEvent[]> {
  if (events.length === 0) return [];
  const { statement, events: full } = outboxInsert(shardCount, events);
  await client.query({ name: 'outbox.append', ...statement });
  return full;
}
