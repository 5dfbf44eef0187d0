// Where seats go when they come back, and how an event's seat counts are
// announced. Released seats go to the waitlist first (API.md): while anyone
// waits, they are set aside for the waitlist actor to offer as holds, and
// only what the waitlist does not claim returns to sale.
import type { PoolClient } from 'pg';
import type { Availability } from '../protocol/index.js';

/** Whether anyone waits for this event. Read under the event row lock, which joining also takes. */
export async function waitlistDemand(client: PoolClient, eventId: string): Promise<boolean> {
  const { rows } = await client.query<{ waiting: boolean }>({
    name: 'inventory.waitlist-demand',
    text: `SELECT EXISTS (SELECT 1 FROM waitlist_entries WHERE event_id = $1 AND status = 'waiting') AS waiting`,
    values: [eventId],
  });
  return rows[0].waiting;
}

export interface SeatCounts {
  capacity: number;
  available: number;
  held: number;
  set_aside: number;
  price: number;
  status: string;
}

/** The counts a domain event carries: seats held and set aside both show as `held`. */
export const availabilityOf = (row: SeatCounts): Availability => ({
  available: row.available, held: row.held + row.set_aside, capacity: row.capacity, price: row.price, status: row.status,
});
