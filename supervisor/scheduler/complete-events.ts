// Events whose end (endsAt, or startsAt when there is none) has passed become
// `completed`: under the row lock, with a version bump and an event.updated
// domain event in the same transaction, like an admin's edit. Inventory
// batches notice through their version check; the reminder consumer drops any
// reminder still scheduled.
import { expectRow } from '../../platform/expect-row.js';
import { toEvent, EVENT_COLUMNS, type EventRow } from '../../actors/inventory/public.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import { availabilityOf } from '../../platform/seat-rows.js';
import type { JobContext } from './context.js';

const BATCH = 100;

/** Completes one event if it is still scheduled and over; false if someone else changed it first. */
async function complete({ db, config }: JobContext, eventId: string, requestId: string): Promise<boolean> {
  return inTransaction(db, async (client) => {
    const { rows } = await client.query<EventRow & { ended: boolean }>(
      `SELECT ${EVENT_COLUMNS}, coalesce(ends_at, starts_at) <= now() AS ended FROM events WHERE id = $1 FOR UPDATE`, [eventId]);
    const row = rows[0];
    if (!row || row.status !== 'scheduled' || !row.ended) return false;
    const updated = await client.query<EventRow>(
      `UPDATE events SET status = 'completed', version = version + 1, updated_at = now() WHERE id = $1 AND version = $2
       RETURNING ${EVENT_COLUMNS}`, [eventId, row.version]);
    const after = expectRow(updated.rows[0], 'complete-events: event update under its row lock');
    await recordEvents(client, config.shards, [
      domainEvent('event.updated', { eventId, version: after.version, availability: availabilityOf(after), requestId }, toEvent(after)),
    ]);
    return true;
  });
}

export async function completePastEvents(ctx: JobContext): Promise<void> {
  const requestId = `complete-events-${new Date().toISOString()}`;
  let completed = 0;
  const failed: string[] = [];
  for (;;) {
    const { rows } = await ctx.db.query<{ id: string }>(
      `SELECT id FROM events WHERE status = 'scheduled' AND coalesce(ends_at, starts_at) <= now() AND NOT (id = ANY($1::uuid[]))
       ORDER BY coalesce(ends_at, starts_at) LIMIT ${BATCH}`, [failed]);
    for (const { id } of rows) {
      // One event that cannot be completed now does not hold up the others.
      const done = await complete(ctx, id, requestId).catch((err: unknown) => {
        ctx.log.warn({ err, eventId: id }, 'could not mark a past event completed');
        failed.push(id);
        return false;
      });
      if (done) completed++;
    }
    if (rows.length < BATCH) break;
  }
  if (completed > 0) ctx.log.info({ completed }, 'past events marked completed');
  if (failed.length > 0) throw new Error(`${failed.length} past events could not be marked completed (first: ${failed[0]})`);
}
