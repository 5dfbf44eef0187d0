// The hold rows two actors share: the waitlist creates and expires them,
// inventory confirms them. One mapping to the protocol's shape. (The event
// row's seat counts have their owner in event-row.ts.)
import type { Hold } from '../protocol/index.js';

export const HOLD_COLUMNS = 'id, event_id, user_id, entry_id, quantity, status, expires_at';

export interface HoldRow {
  id: string;
  event_id: string;
  user_id: string;
  entry_id: string;
  quantity: number;
  status: Hold['status'];
  expires_at: Date;
}

export const toHold = (r: HoldRow): Hold => ({
  id: r.id,
  eventId: r.event_id,
  userId: r.user_id,
  entryId: r.entry_id,
  quantity: r.quantity,
  status: r.status,
  expiresAt: r.expires_at.toISOString(),
});
