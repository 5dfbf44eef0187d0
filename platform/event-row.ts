// The one owner of the `events` row. Every writer (inventory's bookings,
// holds and admin edits, the waitlist's seat moves, pricing, the scheduler's
// completion job) locks it here, changes it here and reads the change's
// version and counts for its domain events from here:
//   lockEvent   SELECT ... FOR UPDATE, the whole row (and whether it is open or over)
//   writeEvent  one UPDATE ... WHERE version = locked version RETURNING the row after,
//               with the seat arithmetic checked before it is written
//   changeOf    what the domain events of that change carry (version, availability)
// It lives in the platform because several actor kinds and the supervisor write the row.
// Seats are in exactly one place: sold, held (active holds), set aside for the
// waitlist, or available; sold is what the other three leave of capacity.
import { expectRow } from './expect-row.js';
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Availability, Event } from '../protocol/index.js';
import type { ChangeOf } from './outbox.js';
import type { Statement } from './sql-parts.js';

/**
 * Thrown when the row's version is not the one locked: the transaction rolls
 * back and its caller runs again (a booking batch at once, a sweep next time).
 */
export class VersionConflict extends Error {
  constructor(eventId: string, why = 'changed under its row lock') {
    super(`event ${eventId} ${why}`);
    this.name = 'VersionConflict';
  }
}

/** The row's columns as every reader and writer selects them. */
export const EVENT_COLUMNS = `id, name, description, venue, starts_at, ends_at, capacity, available, held, set_aside, price,
  currency, max_tickets_per_user, status, version, created_at, updated_at,
  starts_at > now() AS open, coalesce(ends_at, starts_at) <= now() AS ended`;

export interface EventRow {
  id: string;
  name: string;
  description: string;
  venue: string;
  starts_at: Date;
  ends_at: Date | null;
  capacity: number;
  available: number;
  held: number;
  set_aside: number;
  price: number;
  currency: string;
  max_tickets_per_user: number;
  status: Event['status'];
  version: number;
  created_at: Date;
  updated_at: Date;
  /** Not started yet (by the database's clock): bookable if scheduled. */
  open: boolean;
  /** Its end (or its start, when it has no end) has passed. */
  ended: boolean;
}

/** The event row, read without a lock. */
export async function readEvent(db: Pool | PoolClient, eventId: string): Promise<EventRow | undefined> {
  // Named, so each connection plans this hot read once.
  const { rows } = await db.query<EventRow>({
    name: 'event-row.read',
    text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1`,
    values: [eventId],
  });
  return rows[0];
}

export type NewEvent = Pick<
  EventRow,
  | 'name'
  | 'description'
  | 'venue'
  | 'starts_at'
  | 'ends_at'
  | 'capacity'
  | 'price'
  | 'currency'
  | 'max_tickets_per_user'
>;

/** A new event, every seat on sale, at version 1. */
export async function insertEvent(client: PoolClient, e: NewEvent): Promise<EventRow> {
  const { rows } = await client.query<EventRow>(
    `INSERT INTO events (id, name, description, venue, starts_at, ends_at, capacity, available, price, currency, max_tickets_per_user)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10) RETURNING ${EVENT_COLUMNS}`,
    [
      uuidv7(),
      e.name,
      e.description,
      e.venue,
      e.starts_at,
      e.ends_at,
      e.capacity,
      e.price,
      e.currency,
      e.max_tickets_per_user,
    ],
  );
  return expectRow(rows[0], 'INSERT INTO events … RETURNING');
}

/** Takes the row lock for the rest of the caller's transaction. */
export async function lockEvent(client: PoolClient, eventId: string): Promise<EventRow | undefined> {
  const { rows } = await client.query<EventRow>({
    name: 'event-row.lock',
    text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1 FOR UPDATE`,
    values: [eventId],
  });
  return rows[0];
}

/** Seats moved between the places they can be (deltas; what leaves `available` without going elsewhere is sold). */
export interface SeatMove {
  available?: number;
  held?: number;
  setAside?: number;
}

/** The fields an admin edit, pricing or the scheduler set (seat counts move only through `seats`). */
export type EventFields = Partial<
  Pick<
    EventRow,
    | 'name'
    | 'description'
    | 'venue'
    | 'starts_at'
    | 'ends_at'
    | 'capacity'
    | 'price'
    | 'currency'
    | 'max_tickets_per_user'
    | 'status'
  >
>;

export interface EventWrite {
  seats?: SeatMove;
  set?: EventFields;
}

/** Seats sold, held or set aside: what a capacity may not go below. */
export const seatsTaken = (row: EventRow): number => row.capacity - row.available;

/** The move that puts every seat back on sale (the event is cancelled: nothing is sold or held any more). */
export const everySeatBack = (row: EventRow): SeatMove => ({
  available: row.capacity - row.available,
  held: -row.held,
  setAside: -row.set_aside,
});

/** The row after a write, checked: no count below zero, no more seats placed than the capacity has. */
export function applyWrite(row: EventRow, write: EventWrite): EventRow {
  const next = { ...row, ...write.set };
  next.available = row.available + (write.seats?.available ?? 0);
  next.held = row.held + (write.seats?.held ?? 0);
  next.set_aside = row.set_aside + (write.seats?.setAside ?? 0);
  if (
    next.available < 0 ||
    next.held < 0 ||
    next.set_aside < 0 ||
    next.available + next.held + next.set_aside > next.capacity
  ) {
    throw new Error(
      `event ${row.id}: seat move ${JSON.stringify(write.seats ?? {})} does not fit ` +
        `(capacity ${next.capacity}, available ${row.available}, held ${row.held}, set aside ${row.set_aside})`,
    );
  }
  return next;
}

/**
 * The statement writing the change to the row the caller locked, bumping its
 * version, RETURNING the row after it (checked by `written`), and that row as
 * it will be (its updated_at aside). The seat arithmetic is checked here, before anything is sent.
 */
export function eventUpdate(locked: EventRow, write: EventWrite): { statement: Statement; after: EventRow } {
  const n = applyWrite(locked, write);
  const statement = {
    text: `UPDATE events SET name = $3, description = $4, venue = $5, starts_at = $6, ends_at = $7, capacity = $8,
             available = $9, held = $10, set_aside = $11, price = $12, currency = $13, max_tickets_per_user = $14,
             status = $15, version = version + 1, updated_at = now()
           WHERE id = $1 AND version = $2 RETURNING ${EVENT_COLUMNS}`,
    values: [
      locked.id,
      locked.version,
      n.name,
      n.description,
      n.venue,
      n.starts_at,
      n.ends_at,
      n.capacity,
      n.available,
      n.held,
      n.set_aside,
      n.price,
      n.currency,
      n.max_tickets_per_user,
      n.status,
    ],
  };
  return { statement, after: { ...n, version: locked.version + 1 } };
}

/** The row eventUpdate's statement returned; VersionConflict if it wrote none (the row was not at the locked version). */
export function written(locked: EventRow, row: EventRow | undefined): EventRow {
  if (!row) throw new VersionConflict(locked.id);
  return row;
}

/**
 * Writes the change to the row the caller locked, bumping its version, in one
 * statement; returns the row after it. Throws VersionConflict if the row is
 * not at the locked version.
 */
export async function writeEvent(client: PoolClient, locked: EventRow, write: EventWrite): Promise<EventRow> {
  const { statement } = eventUpdate(locked, write);
  const { rows } = await client.query<EventRow>({ name: 'event-row.write', ...statement });
  return written(locked, rows[0]);
}

export type SeatCounts = Pick<EventRow, 'capacity' | 'available' | 'held' | 'set_aside' | 'price' | 'status'>;

/** The counts a domain event carries: seats held and set aside both show as `held`. */
export const availabilityOf = (row: SeatCounts): Availability => ({
  available: row.available,
  held: row.held + row.set_aside,
  capacity: row.capacity,
  price: row.price,
  status: row.status,
});

/** What every domain event about a change of the row carries: its version and counts after the change. */
export const changeOf = (row: EventRow, requestId: string): ChangeOf => ({
  eventId: row.id,
  version: row.version,
  availability: availabilityOf(row),
  requestId,
});

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toEvent(r: EventRow): Event {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    venue: r.venue,
    startsAt: r.starts_at.toISOString(),
    endsAt: iso(r.ends_at),
    capacity: r.capacity,
    available: r.available,
    held: r.held + r.set_aside,
    price: r.price,
    currency: r.currency,
    maxTicketsPerUser: r.max_tickets_per_user,
    status: r.status,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
