// Holds that ran out. Their seats go back to the waitlist and are offered to
// the next in line at once; what nobody in line can take returns to sale.
// The actor times each hold it creates; a periodic sweep is the backstop for
// holds whose timer died with a thread (the scheduler's hold-expiry-sweep job).
import type { PoolClient } from 'pg';
import { domainEvent } from '../../platform/outbox.js';
import type { Done } from './entries.js';
import { offerSetAside, type OfferPolicy } from './offers.js';
import { HOLD_COLUMNS, toHold, type HoldRow } from '../../platform/seat-rows.js';
import { readEntry } from './rows.js';
import { changeOf, lockEvent, writeEvent } from '../../platform/event-row.js';

/** Event ids with holds past their expiry. */
export async function eventsWithExpiredHolds(client: PoolClient): Promise<string[]> {
  const { rows } = await client.query<{ event_id: string }>(
    `SELECT DISTINCT event_id FROM holds WHERE status = 'active' AND expires_at <= now()`,
  );
  return rows.map((r) => r.event_id);
}

export async function expireHolds(
  client: PoolClient,
  eventId: string,
  policy: OfferPolicy,
  requestId: string,
): Promise<Done<number>> {
  const event = await lockEvent(client, eventId);
  if (!event) return { outcome: { ok: true, status: 200, value: 0 }, events: [] };
  const { rows } = await client.query<HoldRow>(
    `UPDATE holds SET status = 'expired', updated_at = now() WHERE event_id = $1 AND status = 'active' AND expires_at <= now()
     RETURNING ${HOLD_COLUMNS}`,
    [eventId],
  );
  if (rows.length === 0) return { outcome: { ok: true, status: 200, value: 0 }, events: [] };
  await client.query(
    `UPDATE waitlist_entries SET status = 'expired', updated_at = now() WHERE id = ANY($1::uuid[]) AND status = 'offered'`,
    [rows.map((h) => h.entry_id)],
  );
  const seats = rows.reduce((n, h) => n + h.quantity, 0);
  const after = await writeEvent(client, event, { seats: { held: -seats, setAside: seats } });
  const change = changeOf(after, requestId);
  const events = [];
  for (const hold of rows) {
    events.push(domainEvent('hold.expired', change, toHold(hold)));
    const entry = await readEntry(client, hold.entry_id);
    if (entry) events.push(domainEvent('waitlist.changed', change, entry));
  }
  events.push(domainEvent('seats.released', change, { quantity: seats, reason: 'hold-expired', toWaitlist: seats }));
  const offered = await offerSetAside(client, after, policy, requestId);
  return {
    outcome: { ok: true, status: 200, value: rows.length },
    events: [...events, ...offered.events],
    holdsExpireAt: offered.holds.map((h) => h.expiresAt),
  };
}
