// Offering set-aside seats to the head of the queue, as holds. Runs inside a
// transaction holding the event row lock. Walks the queue in order: an entry
// that fits gets a hold; one that does not fit is passed over but keeps its
// place, until it has been passed over `maxSkips` times — then it blocks the
// queue and seats are saved up for it. Seats no waiting entry can take go
// back on sale.
import type { PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Hold } from '../../protocol/index.js';
import { domainEvent, type NewDomainEvent } from '../../platform/outbox.js';
import { HOLD_COLUMNS, toHold, type HoldRow } from '../../platform/seat-rows.js';
import { QUEUE_ORDER, readEntry } from './rows.js';
import { changeOf, writeEvent, type EventRow } from '../../platform/event-row.js';

const SCAN_LIMIT = 1000;
/** Positions announced after a change: the head of the queue, where movement matters. */
const POSITIONS_ANNOUNCED = 500;

export interface OfferPolicy {
  holdSeconds: number;
  maxSkips: number;
}

export interface Offered {
  event: EventRow;
  holds: Hold[];
  events: NewDomainEvent[];
}

interface Candidate {
  id: string;
  user_id: string;
  quantity: number;
  skips: number;
}

export async function offerSetAside(
  client: PoolClient,
  locked: EventRow,
  policy: OfferPolicy,
  requestId: string,
): Promise<Offered> {
  if (locked.set_aside === 0 || locked.status !== 'scheduled' || !locked.open)
    return { event: locked, holds: [], events: [] };
  const { rows: waiting } = await client.query<Candidate>({
    name: 'waitlist.candidates',
    text: `SELECT id, user_id, quantity, skips FROM waitlist_entries WHERE event_id = $1 AND status = 'waiting'
           ORDER BY ${QUEUE_ORDER} LIMIT ${SCAN_LIMIT} FOR UPDATE`,
    values: [locked.id],
  });
  let free = locked.set_aside;
  const chosen: Candidate[] = [];
  const passed: Candidate[] = [];
  let blocked = false;
  for (const entry of waiting) {
    if (free === 0) break;
    if (entry.quantity <= free) {
      chosen.push(entry);
      free -= entry.quantity;
    } else if (entry.skips >= policy.maxSkips) {
      blocked = true;
      break;
    } else {
      passed.push(entry);
    }
  }
  const toSale = blocked ? 0 : free;
  const offered = chosen.reduce((n, e) => n + e.quantity, 0);
  if (offered === 0 && toSale === 0) return { event: locked, holds: [], events: [] };

  if (passed.length > 0) {
    await client.query('UPDATE waitlist_entries SET skips = skips + 1, updated_at = now() WHERE id = ANY($1::uuid[])', [
      passed.map((e) => e.id),
    ]);
  }
  const holdIds = chosen.map(() => uuidv7());
  const { rows: holdRows } =
    chosen.length === 0
      ? { rows: [] as HoldRow[] }
      : await client.query<HoldRow>(
          `INSERT INTO holds (id, event_id, user_id, entry_id, quantity, expires_at)
     SELECT h.id, $1, h.user_id, h.entry_id, h.quantity, now() + make_interval(secs => $2)
       FROM unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::int[]) AS h(id, user_id, entry_id, quantity)
     RETURNING ${HOLD_COLUMNS}`,
          [
            locked.id,
            policy.holdSeconds,
            holdIds,
            chosen.map((e) => e.user_id),
            chosen.map((e) => e.id),
            chosen.map((e) => e.quantity),
          ],
        );
  for (const hold of holdRows) {
    await client.query(
      `UPDATE waitlist_entries SET status = 'offered', hold_id = $2, updated_at = now() WHERE id = $1`,
      [hold.entry_id, hold.id],
    );
  }
  const event = await writeEvent(client, locked, {
    seats: { setAside: -(offered + toSale), held: offered, available: toSale },
  });
  const change = changeOf(event, requestId);
  const holds = holdRows.map(toHold);
  const events: NewDomainEvent[] = [];
  for (const hold of holds) {
    events.push(domainEvent('hold.created', change, hold));
    const entry = await readEntry(client, hold.entryId);
    if (entry) events.push(domainEvent('waitlist.changed', change, entry));
  }
  if (toSale > 0)
    events.push(
      domainEvent('seats.released', change, { quantity: toSale, reason: 'waitlist-unclaimed', toWaitlist: 0 }),
    );
  if (chosen.length > 0) events.push(await positionsChanged(client, change));
  return { event, holds, events };
}

/** Announces the head of the queue's positions after entries left it. */
export async function positionsChanged(
  client: PoolClient,
  change: { eventId: string; version: number; requestId: string },
): Promise<NewDomainEvent> {
  const { rows } = await client.query<{ id: string; user_id: string; position: number }>({
    name: 'waitlist.head-positions',
    text: `SELECT id, user_id, (row_number() OVER (ORDER BY ${QUEUE_ORDER}))::int AS position
           FROM waitlist_entries WHERE event_id = $1 AND status = 'waiting' ORDER BY ${QUEUE_ORDER} LIMIT ${POSITIONS_ANNOUNCED}`,
    values: [change.eventId],
  });
  return domainEvent(
    'waitlist.positions',
    { ...change, availability: null },
    { entries: rows.map((r) => ({ entryId: r.id, userId: r.user_id, position: r.position })) },
  );
}
