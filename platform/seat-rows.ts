// The rows two actors share: an event's seat counts (inventory sells from
// them, the waitlist moves seats between set-aside, held and on sale) and
// holds (the waitlist creates and expires them, inventory confirms them).
// One mapping to the protocol's shapes, so `held` means the same everywhere.
import type { Availability, Hold } from '../protocol/index.js';

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

export const HOLD_COLUMNS = 'id, event_id, user_id, entry_id, quantity, status, expires_at';

export interface HoldRow {
  id: string; event_id: string; user_id: string; entry_id: string; quantity: number; status: Hold['status']; expires_at: Date;
}

export const toHold = (r: HoldRow): Hold => ({
  id: r.id, eventId: r.event_id, userId: r.user_id, entryId: r.entry_id, quantity: r.quantity, status: r.status,
  expiresAt: r.expires_at.toISOString(),
});
