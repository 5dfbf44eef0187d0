// What the waitlist does when inventory changes, read from the domain event
// stream (durable, at least once; each event applied once through
// consumed_events in the same transaction as its effect):
//   seats.released with seats for the waitlist → offer them to the head of the queue
//   hold.confirmed  → the entry is booked
//   event.cancelled → every live entry expires
import type { PoolClient } from 'pg';
import type { DomainEvent, DomainEventType } from '../../protocol/index.js';
import { domainEvent } from '../../platform/outbox.js';
import { appliedOnce } from '../../platform/shard-consumer.js';
import type { Done } from './entries.js';
import { offerSetAside, type OfferPolicy } from './offers.js';
import { readEntry } from './rows.js';
import { lockEvent } from '../../platform/event-row.js';

export const CONSUMER = 'waitlist';

const nothing: Done<null> = { outcome: { ok: true, status: 200, value: null }, events: [] };

/** The only domain event types the waitlist consumes. */
export const REACTS_TO = [
  'seats.released',
  'hold.confirmed',
  'event.cancelled',
] as const satisfies readonly DomainEventType[];

export const reactsTo = (event: DomainEvent): boolean =>
  (event.type === 'seats.released' && event.data.toWaitlist > 0) ||
  event.type === 'hold.confirmed' ||
  event.type === 'event.cancelled';

export async function react(client: PoolClient, event: DomainEvent, policy: OfferPolicy): Promise<Done<null>> {
  if (!reactsTo(event)) return nothing;
  const locked = await lockEvent(client, event.eventId);
  if (!locked || !(await appliedOnce(client, CONSUMER, event.id))) return nothing;
  const change = { eventId: event.eventId, version: locked.version, availability: null, requestId: event.requestId };
  switch (event.type) {
    case 'seats.released': {
      const offered = await offerSetAside(client, locked, policy, event.requestId);
      return { ...nothing, events: offered.events, holdsExpireAt: offered.holds.map((h) => h.expiresAt) };
    }
    case 'hold.confirmed': {
      const { rowCount } = await client.query(
        `UPDATE waitlist_entries SET status = 'booked', updated_at = now() WHERE id = $1 AND status = 'offered'`,
        [event.data.entryId],
      );
      const entry = rowCount === 1 ? await readEntry(client, event.data.entryId) : undefined;
      return { ...nothing, events: entry ? [domainEvent('waitlist.changed', change, entry)] : [] };
    }
    case 'event.cancelled': {
      const { rows } = await client.query<{ id: string }>(
        `UPDATE waitlist_entries SET status = 'expired', updated_at = now() WHERE event_id = $1 AND status IN ('waiting', 'offered') RETURNING id`,
        [event.eventId],
      );
      const entries = await Promise.all(rows.map((r) => readEntry(client, r.id)));
      return { ...nothing, events: entries.flatMap((e) => (e ? [domainEvent('waitlist.changed', change, e)] : [])) };
    }
    default:
      return nothing;
  }
}
