// The event row as the waitlist sees it: locked for the length of a
// transaction (the same row lock every booking takes), and written back with
// the version check. Seats move between three places here: set aside for the
// waitlist, held for one person, and back on sale.
import type { PoolClient } from 'pg';
import type { SeatCounts } from '../../platform/seat-rows.js';

export interface LockedEvent extends SeatCounts {
  id: string;
  version: number;
  open: boolean;
  max_tickets_per_user: number;
}

export async function lockEvent(client: PoolClient, eventId: string): Promise<LockedEvent | undefined> {
  const { rows } = await client.query<LockedEvent>({
    name: 'waitlist.lock-event',
    text: `SELECT id, capacity, available, held, set_aside, price, status, version, starts_at > now() AS open, max_tickets_per_user
           FROM events WHERE id = $1 FOR UPDATE`,
    values: [eventId],
  });
  return rows[0];
}

export interface SeatMove {
  available?: number;
  held?: number;
  setAside?: number;
}

/** Applies a move of seats (deltas) with the version check; returns the row after it. */
export async function moveSeats(client: PoolClient, event: LockedEvent, move: SeatMove): Promise<LockedEvent> {
  const { rows: [moved] } = await client.query<LockedEvent>({
    name: 'waitlist.move-seats',
    text: `UPDATE events SET available = available + $3, held = held + $4, set_aside = set_aside + $5,
             version = version + 1, updated_at = now()
           WHERE id = $1 AND version = $2
           RETURNING id, capacity, available, held, set_aside, price, status, version, starts_at > now() AS open, max_tickets_per_user`,
    values: [event.id, event.version, move.available ?? 0, move.held ?? 0, move.setAside ?? 0],
  });
  if (!moved) throw new Error(`event ${event.id} changed under its row lock`);
  return moved;
}
