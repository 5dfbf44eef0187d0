// Where seats go when they come back. Released seats go to the waitlist first (docs/api.md, "Waitlist and
// holds"): while anyone waits, they are set aside for the waitlist actor to offer as holds, and
// only what the waitlist does not claim returns to sale.
import type { PoolClient } from 'pg';
import { expectRow } from '../../platform/expect-row.js';

/** Whether anyone waits for this event. Read under the event row lock, which joining also takes. */
export async function waitlistDemand(client: PoolClient, eventId: string): Promise<boolean> {
  const { rows } = await client.query<{ waiting: boolean }>({
    name: 'inventory.waitlist-demand',
    text: `SELECT EXISTS (SELECT 1 FROM waitlist_entries WHERE event_id = $1 AND status = 'waiting') AS waiting`,
    values: [eventId],
  });
  return expectRow(rows[0], 'inventory.waitlist-demand').waiting;
}
