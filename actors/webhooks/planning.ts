// Which deliveries the domain events owe: one per (enabled endpoint
// subscribed to the event's type, domain event). Planned in the transaction
// that records the events consumed, so planning happens once and is never
// lost; the unique (endpoint, domain event) key makes a second planning of
// the same pair a no-op even so. The payload is fixed at planning time: a
// retry a day later sends the same body, under the same webhook-id.
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { WEBHOOK_EVENT_TYPES, type DomainEvent, type DomainMessage } from '../../protocol/index.js';
import { freshEvents } from '../../platform/batch-consumer.js';

export const CONSUMER = 'webhooks';
export const REACTS_TO = WEBHOOK_EVENT_TYPES;

interface Subscriber {
  id: string;
  events: string[];
}

const SUBSCRIBERS = `SELECT id, events FROM webhook_endpoints WHERE enabled`;

const wants = (s: Subscriber, type: string) => s.events.includes('*') || s.events.includes(type);

/**
 * True when some enabled endpoint wants one of these events. Read outside any
 * transaction, so a flash sale with no webhooks costs one small query per
 * batch and nothing else.
 */
export async function anyoneSubscribed(pool: Pool, events: readonly DomainEvent[]): Promise<boolean> {
  const { rows } = await pool.query<Subscriber>({ name: 'webhooks.subscribers', text: SUBSCRIBERS });
  return rows.some((s) => events.some((e) => wants(s, e.type)));
}

/** The body every attempt of the delivery sends (Standard Webhooks' {type, timestamp, data}, plus where it belongs). */
export const payloadOf = (event: DomainEvent) => ({
  type: event.type,
  timestamp: event.occurredAt,
  eventId: event.eventId,
  version: event.version,
  data: event.data,
});

/** Plans the deliveries a run of messages owes, once per message; returns how many rows were written. */
export async function planDeliveries(client: PoolClient, messages: readonly DomainMessage[]): Promise<number> {
  const events = await freshEvents(client, CONSUMER, messages);
  const { rows: subscribers } = await client.query<Subscriber>({ name: 'webhooks.subscribers', text: SUBSCRIBERS });
  const rows = [];
  for (const event of events) {
    for (const s of subscribers) {
      if (!wants(s, event.type)) continue;
      rows.push({
        id: uuidv7(),
        endpointId: s.id,
        domainEventId: event.id,
        eventType: event.type,
        eventId: event.eventId,
        version: event.version,
        payload: payloadOf(event),
      });
    }
  }
  if (rows.length === 0) return 0;
  // In stream order (a set-returning function yields its array in order), so seq breaks ties between
  // the events of one version (one booking batch) as they happened.
  const { rowCount } = await client.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, domain_event_id, event_type, event_id, version, payload)
     SELECT r.id, r."endpointId", r."domainEventId", r."eventType", r."eventId", r.version, r.payload
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, "endpointId" uuid, "domainEventId" uuid, "eventType" text,
       "eventId" uuid, version int, payload jsonb)
     ON CONFLICT (endpoint_id, domain_event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return rowCount ?? 0;
}
