// The backstop to the waitlist actor's own hold timers: a timer lives in the
// thread that created the hold, so a hold whose thread died (or whose shard
// moved to another supervisor) has none. The sweep finds holds past their
// expiry and asks the thread owning each event's shard to expire them, so they
// take the same path as a timer: seats to the next in line, or back to sale,
// announced as domain events.
import { waitlist } from '../../protocol/index.js';
import { eventsWithExpiredHolds } from '../../actors/waitlist/public.js';
import type { JobContext } from './context.js';

export async function sweepHolds({ db, broker, log }: JobContext): Promise<void> {
  const client = await db.connect();
  let eventIds: string[];
  try {
    eventIds = await eventsWithExpiredHolds(client);
  } finally {
    client.release();
  }
  const outcomes = await Promise.all(
    eventIds.map(async (eventId) => ({
      eventId,
      outcome: await broker.call(waitlist.expireHolds, { eventId }, { requestId: `hold-sweep-${eventId}` }),
    })),
  );
  const expired = outcomes.reduce((n, { outcome }) => n + (outcome.ok ? outcome.value.expired : 0), 0);
  if (expired > 0) log.info({ expired, events: eventIds.length }, 'hold sweep expired holds whose timer was lost');
  // One event's failure does not stop the others; the run still counts as failed, and the next one retries.
  const failed = outcomes.flatMap(({ eventId, outcome }) =>
    outcome.ok ? [] : [{ eventId, code: outcome.code, detail: outcome.detail }],
  );
  const [first] = failed;
  if (first) {
    throw new Error(
      `holds of ${failed.length} of ${eventIds.length} events were not expired (first: ${first.eventId} ${first.code} ${first.detail})`,
    );
  }
}
