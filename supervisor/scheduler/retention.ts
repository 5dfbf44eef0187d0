// Bookkeeping rows past the point where they can matter:
//  - consumed_events (which domain events a consumer applied, for dedupe)
//    older than the domain stream's max age: the stream no longer holds those
//    events, so none can be delivered again. Without this the table grows for ever.
//  - reminders_sent rows of starts more than that long ago: a reminder job
//    never announces an event that has started.
//  - checkin_nonces (first answers to scans, for replays) as old: a scanner
//    uploading later than that gets the ticket's state, which is just as safe.
// Deleted in bounded batches so no run holds locks for long. Idempotency keys
// are kept: the API promises a replay for a key and states no expiry. The
// audit log is append-only by trigger and is never touched here.
import { STREAM_MAX_AGE_MS } from '../../platform/domain-stream.js';
import type { JobContext } from './context.js';

const BATCH = 5000;

async function deleteInBatches({ db }: JobContext, table: string, column: string, cutoff: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT ${BATCH}))`,
      [cutoff],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) return deleted;
  }
}

export async function cleanRetention(ctx: JobContext): Promise<void> {
  const cutoff = new Date(Date.now() - STREAM_MAX_AGE_MS);
  const consumedEvents = await deleteInBatches(ctx, 'consumed_events', 'consumed_at', cutoff);
  const remindersSent = await deleteInBatches(ctx, 'reminders_sent', 'starts_at', cutoff);
  const checkinNonces = await deleteInBatches(ctx, 'checkin_nonces', 'created_at', cutoff);
  if (consumedEvents + remindersSent + checkinNonces > 0)
    ctx.log.info({ consumedEvents, remindersSent, checkinNonces, cutoff }, 'retention clean-up deleted old rows');
}
