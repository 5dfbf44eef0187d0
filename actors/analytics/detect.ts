// Where the anomaly rules meet the roll-ups: a spike or a burst is judged
// when a booking or cancellation is applied live (in its transaction); a
// stall, which is the absence of events, is looked for on a timer.
import type { Pool, PoolClient } from 'pg';
import type { DomainEvent } from '../../protocol/index.js';
import type { Anomaly } from './alerts.js';
import {
  ANOMALY,
  cancellationBurst,
  MINUTE_MS,
  minuteOf,
  stalledSale,
  velocitySpike,
  type MinuteCounts,
} from './anomalies.js';

/** The minute `minute` and the baseline window before it. */
async function seriesUpTo(client: PoolClient | Pool, eventId: string, minute: number): Promise<MinuteCounts[]> {
  const { rows } = await client.query<{ minute: Date; tickets: number; cancellations: number }>({
    name: 'analytics.series',
    text: 'SELECT minute, tickets, cancellations FROM analytics_minutes WHERE event_id = $1 AND minute >= $2 AND minute <= $3',
    values: [
      eventId,
      new Date(minute - ANOMALY.baselineMinutes * MINUTE_MS).toISOString(),
      new Date(minute).toISOString(),
    ],
  });
  return rows.map((r) => ({ at: r.minute.getTime(), tickets: r.tickets, cancellations: r.cancellations }));
}

/** A spike or burst the event just applied shows, if any. */
export async function anomalyOf(client: PoolClient, event: DomainEvent): Promise<Anomaly | null> {
  const base = { eventId: event.eventId, version: event.version, requestId: event.requestId };
  if (event.type === 'booking.confirmed') {
    const minute = minuteOf(event.data.createdAt);
    const finding = velocitySpike(await seriesUpTo(client, event.eventId, minute), minute);
    return finding && { ...base, finding, minute, raisedAt: event.data.createdAt };
  }
  // An event cancelled by its organiser cancels every booking at once: that is not a burst.
  if (event.type === 'booking.cancelled' && event.data.cancelledAt && event.availability?.status !== 'cancelled') {
    const minute = minuteOf(event.data.cancelledAt);
    const finding = cancellationBurst(await seriesUpTo(client, event.eventId, minute), minute);
    return finding && { ...base, finding, minute, raisedAt: event.data.cancelledAt };
  }
  return null;
}

export interface StallCandidate {
  eventId: string;
  lastSale: number;
  version: number;
}

/**
 * Sales that sold something lately, then nothing for the stall time, with
 * seats on sale before the event starts, whose events have settled, and
 * whose stall has not been alerted yet.
 */
export async function stallCandidates(pool: Pool, now: number): Promise<StallCandidate[]> {
  const { rows } = await pool.query<{ event_id: string; last_sale: Date; version: number }>({
    name: 'analytics.stall-candidates',
    text: `SELECT s.event_id, s.last_sale, e.version
             FROM (SELECT event_id, max(minute) AS last_sale FROM analytics_minutes
                    WHERE tickets > 0 AND minute > $1 GROUP BY event_id) s
             JOIN events e ON e.id = s.event_id
             JOIN analytics_events a ON a.event_id = s.event_id
            WHERE s.last_sale <= $2 AND a.applied_at < $3
              AND e.status = 'scheduled' AND e.starts_at > $4 AND e.available > 0
              AND NOT EXISTS (SELECT 1 FROM analytics_alert_episodes p
                               WHERE p.event_id = s.event_id AND p.kind = 'stalled-sale' AND p.last_minute >= s.last_sale)`,
    values: [
      new Date(now - ANOMALY.stallLookbackMinutes * MINUTE_MS).toISOString(),
      new Date(now - (ANOMALY.stallMinutes + 1) * MINUTE_MS).toISOString(),
      new Date(now - ANOMALY.settleMs).toISOString(),
      new Date(now).toISOString(),
    ],
  });
  return rows.map((r) => ({ eventId: r.event_id, lastSale: r.last_sale.getTime(), version: r.version }));
}

export async function stallOf(client: PoolClient, c: StallCandidate, now: number): Promise<Anomaly | null> {
  const finding = stalledSale(await seriesUpTo(client, c.eventId, c.lastSale), c.lastSale, now);
  return (
    finding && {
      eventId: c.eventId,
      finding,
      minute: c.lastSale,
      raisedAt: new Date(now).toISOString(),
      version: c.version,
      requestId: `analytics-stall-${c.eventId}`,
    }
  );
}
