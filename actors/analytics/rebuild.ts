// Rebuilding the roll-ups exactly, from the tables or from the stream, while
// live consumers keep running. The rebuild takes the roll-ups whole
// (lockForRebuild: readers go on, live writers wait), clears them and this
// consumer's claims, and recomputes; it claims every fact it counted under
// the same keys the live path uses (rollups.ts), so events still in flight
// for facts it already counted change nothing when they arrive, and those
// for later facts are applied as usual. Alerts and their episodes are
// history, not roll-ups: they stay.
import type { NatsConnection } from 'nats';
import type pg from 'pg';
import { DOMAIN_STREAM, readDomainMessage, type RebuildResult } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { inTransaction } from '../../platform/resources.js';
import { applyEvents, CONSUMER, CONSUMES, lockForRebuild } from './rollups.js';

const consumed = new Set<string>(CONSUMES);
const REPLAY_IDLE_MS = 10_000;

function inRebuild<T>(pool: pg.Pool, isolation: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(
    pool,
    async (client) => {
      // LOCK takes no snapshot: the rebuild's snapshot begins after every live writer before it committed.
      await lockForRebuild(client);
      await client.query('DELETE FROM analytics_events');
      await client.query('DELETE FROM analytics_minutes');
      await client.query('DELETE FROM analytics_days');
      await client.query('DELETE FROM analytics_waitlist');
      await client.query('DELETE FROM consumed_events WHERE consumer = $1', [CONSUMER]);
      return fn(client);
    },
    `BEGIN ISOLATION LEVEL ${isolation}`,
  );
}

// The same facts, keys and UTC minutes and days as rollups.ts, in SQL.
const FROM_TABLES = [
  `INSERT INTO analytics_events (event_id, bookings, tickets, cancellations, revenue, offers_made, offers_confirmed)
   SELECT event_id, sum(bookings), sum(tickets), sum(cancellations), sum(revenue), sum(offers_made), sum(offers_confirmed) FROM (
     SELECT event_id, count(*) FILTER (WHERE status = 'confirmed') AS bookings, coalesce(sum(quantity) FILTER (WHERE status = 'confirmed'), 0) AS tickets,
            count(*) FILTER (WHERE status = 'cancelled') AS cancellations, coalesce(sum(total_price) FILTER (WHERE status = 'confirmed'), 0) AS revenue,
            0 AS offers_made, 0 AS offers_confirmed
       FROM bookings GROUP BY event_id
     UNION ALL
     SELECT event_id, 0, 0, 0, 0, count(*), count(*) FILTER (WHERE status = 'confirmed') FROM holds GROUP BY event_id
   ) facts GROUP BY event_id`,
  `INSERT INTO analytics_minutes (event_id, minute, bookings, tickets, revenue, cancellations, refunds)
   SELECT event_id, minute, sum(bookings), sum(tickets), sum(revenue), sum(cancellations), sum(refunds) FROM (
     SELECT event_id, date_trunc('minute', created_at) AS minute, 1 AS bookings, quantity AS tickets, total_price AS revenue, 0 AS cancellations, 0 AS refunds FROM bookings
     UNION ALL
     SELECT event_id, date_trunc('minute', cancelled_at), 0, 0, 0, 1, total_price FROM bookings WHERE cancelled_at IS NOT NULL
   ) facts GROUP BY event_id, minute`,
  `INSERT INTO analytics_days (event_id, day, bookings, tickets, cancellations, revenue)
   SELECT event_id, day, sum(bookings), sum(tickets), sum(cancellations), sum(revenue) FROM (
     SELECT event_id, (created_at AT TIME ZONE 'UTC')::date AS day, 1 AS bookings, quantity AS tickets, 0 AS cancellations, total_price AS revenue FROM bookings
     UNION ALL
     SELECT event_id, (cancelled_at AT TIME ZONE 'UTC')::date, 0, 0, 1, -total_price FROM bookings WHERE cancelled_at IS NOT NULL
   ) facts GROUP BY event_id, day`,
  `INSERT INTO analytics_waitlist (entry_id, event_id, status, rank)
   SELECT id, event_id, status, CASE status WHEN 'waiting' THEN 0 WHEN 'offered' THEN 1 ELSE 2 END FROM waitlist_entries`,
  `INSERT INTO consumed_events (consumer, event_id)
   SELECT '${CONSUMER}', md5('booking.confirmed:' || id)::uuid FROM bookings
   UNION ALL SELECT '${CONSUMER}', md5('booking.cancelled:' || id)::uuid FROM bookings WHERE status = 'cancelled'
   UNION ALL SELECT '${CONSUMER}', md5('hold.created:' || id)::uuid FROM holds
   UNION ALL SELECT '${CONSUMER}', md5('hold.confirmed:' || id)::uuid FROM holds WHERE status = 'confirmed'`,
];

/** One snapshot of bookings, holds and waitlist entries (repeatable read), counted in SQL. */
export function rebuildFromTables(pool: pg.Pool): Promise<RebuildResult> {
  const began = Date.now();
  return inRebuild(pool, 'REPEATABLE READ', async (client) => {
    for (const statement of FROM_TABLES) await client.query(statement);
    const {
      rows: [counted],
    } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings');
    const { n } = expectRow(counted, 'analytics rebuild count');
    return { source: 'bookings', applied: n, firstSequence: null, lastSequence: null, tookMs: Date.now() - began };
  });
}

/**
 * Replays the stream from its first message to its last at the moment the
 * roll-ups were locked, through an ordered consumer, applying each event as
 * the live path does (without anomaly detection: alerts are history). Later
 * events wait for the lock and are applied live. Exact while the stream
 * still holds every event (it keeps them for its max age, 7 days).
 */
export function rebuildFromStream(pool: pg.Pool, nc: NatsConnection): Promise<RebuildResult> {
  const began = Date.now();
  return inRebuild(pool, 'READ COMMITTED', async (client) => {
    const { state } = await (await nc.jetstreamManager()).streams.info(DOMAIN_STREAM);
    let applied = 0;
    let reached = 0;
    if (state.messages > 0) {
      const messages = await (await nc.jetstream().consumers.get(DOMAIN_STREAM)).consume();
      // Messages aging out under the replay would leave it waiting for a sequence that never comes.
      let watchdog = setTimeout(() => messages.stop(), REPLAY_IDLE_MS);
      for await (const m of messages) {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => messages.stop(), REPLAY_IDLE_MS);
        reached = m.seq;
        let payload: unknown;
        try {
          payload = m.json();
        } catch {
          payload = undefined;
        }
        const events = readDomainMessage(payload)?.events.filter((e) => consumed.has(e.type)) ?? [];
        if (events.length > 0) {
          await applyEvents(client, events);
          applied += events.length;
        }
        if (m.seq >= state.last_seq) break;
      }
      clearTimeout(watchdog);
      messages.stop();
      if (reached < state.last_seq) throw new Error(`stream replay stopped at ${reached} of ${state.last_seq}`);
    }
    return {
      source: 'stream',
      applied,
      firstSequence: state.messages > 0 ? state.first_seq : null,
      lastSequence: state.last_seq,
      tookMs: Date.now() - began,
    };
  });
}
