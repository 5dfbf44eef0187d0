// Events whose end (endsAt, or startsAt when there is none) has passed become
// `completed`: under the row lock, with a version bump and an event.updated
// domain event in the same transaction, like an admin's edit. Inventory
// batches notice through their version check; the reminder consumer drops any
// reminder still scheduled.
import { changeOf, lockEvent, toEvent, writeEvent } from '../../platform/event-row.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import type { JobContext } from './context.js';

const BATCH = 100;

/** Completes one event if it is still scheduled and over; false if someone else changed it first. */
async function complete({ db, config }: JobContext, eventId: string, requestId: string): Promise<boolean> {
  return inTransaction(db, async (client) => {
    const row = await lockEvent(client, eventId);
    if (!row || row.status !== 'scheduled' || !row.ended) return false;
    const after = await writeEvent(client, row, { set: { status: 'completed' } });
    await recordEvents(client, config.shards, [
      domainEvent('event.updated', changeOf(after, requestId), toEvent(after)),
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
       ORDER BY coalesce(ends_at, starts_at) LIMIT ${BATCH}`,
      [failed],
    );
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
  if (failed.length > 0)
    throw new Error(`${failed.length} past events could not be marked completed (first: ${failed[0]})`);
}
