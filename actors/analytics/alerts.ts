// Raising an alert: once per episode (see anomalies.ts), stored for the API
// and announced as an `analytics.alert` domain event through the outbox, in
// the transaction that saw the anomaly. Counted in Prometheus after commit.
import type { PoolClient } from 'pg';
import { Counter } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import type { AnalyticsAlertItem } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { opensEpisode, type Finding } from './anomalies.js';

const alertsRaised = new Counter({
  name: 'evently_analytics_alerts_total',
  help: 'Analytics alerts raised (one per episode), by kind',
  labelNames: ['kind'] as const,
});

export interface Anomaly {
  eventId: string;
  finding: Finding;
  /** The minute that identifies the episode (the anomalous minute, or a stall's last sale). */
  minute: number;
  raisedAt: string;
  /** The event row's version the alert refers to, and the request that led to it. */
  version: number;
  requestId: string;
}

export const ALERT_COLUMNS = 'id, event_id, kind, observed, baseline, detail, raised_at';

export interface AlertRow {
  id: string;
  event_id: string;
  kind: AnalyticsAlertItem['kind'];
  observed: number;
  baseline: number;
  detail: string;
  raised_at: Date;
}

export const toAlert = (r: AlertRow): AnalyticsAlertItem => ({
  id: r.id,
  eventId: r.event_id,
  kind: r.kind,
  observed: r.observed,
  baseline: r.baseline,
  detail: r.detail,
  raisedAt: r.raised_at.toISOString(),
});

/** Records the anomaly's minute in its episode; raises an alert only if it opens a new episode. */
export async function raiseOnce(
  client: PoolClient,
  shardCount: number,
  a: Anomaly,
): Promise<AnalyticsAlertItem | null> {
  const { kind } = a.finding;
  // The row exists before it is locked, so two writers of one episode queue on it (epoch = no episode yet).
  await client.query({
    name: 'analytics.episode-ensure',
    text: `INSERT INTO analytics_alert_episodes (event_id, kind, last_minute) VALUES ($1, $2, 'epoch') ON CONFLICT DO NOTHING`,
    values: [a.eventId, kind],
  });
  const {
    rows: [episode],
  } = await client.query<{ last_minute: Date }>({
    name: 'analytics.episode-lock',
    text: 'SELECT last_minute FROM analytics_alert_episodes WHERE event_id = $1 AND kind = $2 FOR UPDATE',
    values: [a.eventId, kind],
  });
  const opens = opensEpisode(kind, expectRow(episode, 'analytics.episode-lock').last_minute.getTime(), a.minute);
  await client.query({
    name: 'analytics.episode-extend',
    text: 'UPDATE analytics_alert_episodes SET last_minute = greatest(last_minute, $3) WHERE event_id = $1 AND kind = $2',
    values: [a.eventId, kind, new Date(a.minute).toISOString()],
  });
  if (!opens) return null;
  const {
    rows: [row],
  } = await client.query<AlertRow>(
    `INSERT INTO analytics_alerts (${ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${ALERT_COLUMNS}`,
    [uuidv7(), a.eventId, kind, a.finding.observed, a.finding.baseline, a.finding.detail, a.raisedAt],
  );
  const { observed, baseline, detail } = a.finding;
  await recordEvents(client, shardCount, [
    domainEvent(
      'analytics.alert',
      { eventId: a.eventId, version: a.version, availability: null, requestId: a.requestId },
      { kind, observed, baseline, detail },
    ),
  ]);
  return toAlert(expectRow(row, 'analytics alert insert'));
}

/** After the commit that raised them. */
export function countRaised(alerts: readonly AnalyticsAlertItem[]): void {
  for (const alert of alerts) alertsRaised.inc({ kind: alert.kind });
}
