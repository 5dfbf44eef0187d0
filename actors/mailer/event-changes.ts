// What an organiser's edit changed, as people with tickets care about it.
// An event.updated carries only the event after the edit, so the mailer
// keeps the last state of the mailed fields per event (from event.created
// and each event.updated, newer versions only; the mailer reads each shard in
// order, so the creation comes first) and diffs against it. Edits of anything
// else (capacity, price, description) send nothing.
import type { PoolClient } from 'pg';
import type { Event } from '../../protocol/index.js';
import { formatWhen } from './mail-data.js';

export interface Change {
  label: string;
  before: string;
  after: string;
}

interface SnapshotRow {
  version: number;
  name: string;
  venue: string;
  starts_at: Date;
  ends_at: Date | null;
}

const when = (iso: string | null) => (iso ? formatWhen(iso) : 'not set');
const instant = (at: Date | string | null) => (at === null ? null : new Date(at).getTime());

function diff(before: SnapshotRow, after: Event): Change[] {
  const changes: Change[] = [];
  if (before.name !== after.name) changes.push({ label: 'Name', before: before.name, after: after.name });
  if (before.venue !== after.venue) changes.push({ label: 'Venue', before: before.venue, after: after.venue });
  if (instant(before.starts_at) !== instant(after.startsAt)) {
    changes.push({ label: 'Starts', before: when(before.starts_at.toISOString()), after: when(after.startsAt) });
  }
  if (instant(before.ends_at) !== instant(after.endsAt)) {
    changes.push({ label: 'Ends', before: when(before.ends_at?.toISOString() ?? null), after: when(after.endsAt) });
  }
  return changes;
}

/**
 * Records the event's state and returns what changed since the last one
 * recorded. Nothing is returned for the first state seen, or for a version
 * no newer than the one kept (a redelivery).
 */
export async function recordEventState(client: PoolClient, event: Event): Promise<Change[]> {
  const { rows } = await client.query<SnapshotRow>(
    'SELECT version, name, venue, starts_at, ends_at FROM mail_event_snapshots WHERE event_id = $1 FOR UPDATE',
    [event.id],
  );
  const previous = rows[0];
  if (previous && previous.version >= event.version) return [];
  await client.query(
    `INSERT INTO mail_event_snapshots (event_id, version, name, venue, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (event_id) DO UPDATE SET version = excluded.version, name = excluded.name, venue = excluded.venue,
       starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
    [event.id, event.version, event.name, event.venue, event.startsAt, event.endsAt],
  );
  return previous ? diff(previous, event) : [];
}
