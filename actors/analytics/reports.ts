// The three answers made of figures: the summary (dashboard, admin API), one
// event's analytics, and one UTC day's report (the scheduled mail's content).
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type AnalyticsSummary,
  type DailyReport,
  type EventAnalytics,
  type Outcome,
} from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { ALERT_COLUMNS, toAlert, type AlertRow } from './alerts.js';
import {
  at,
  daily,
  eventFigures,
  inSnapshot,
  recentAlerts,
  seriesDays,
  TOP_EVENTS,
  topEvents,
  totals,
} from './figures.js';

/** A day's alerts are few (one per episode); this bounds a pathological day. */
const DAY_ALERTS = 100;

export function summary(pool: Pool, now: number): Promise<AnalyticsSummary> {
  const when = at(now);
  const [first, last] = seriesDays(now);
  return inSnapshot(pool, async (client) => ({
    totals: await totals(client, when),
    topEvents: await topEvents(client, when),
    daily: await daily(client, first, last, null),
    alerts: await recentAlerts(client, null),
    generatedAt: new Date(now).toISOString(),
  }));
}

export function eventAnalytics(pool: Pool, eventId: string, now: number): Promise<Outcome<EventAnalytics>> {
  const when = at(now);
  const [first, last] = seriesDays(now);
  return inSnapshot(pool, async (client) => {
    const figures = await eventFigures(client, eventId, when);
    if (!figures) return refuse('NOT_FOUND', 'event not found');
    return ok({
      figures,
      daily: await daily(client, first, last, eventId),
      alerts: await recentAlerts(client, eventId),
      generatedAt: new Date(now).toISOString(),
    });
  });
}

export function dailyReport(pool: Pool, day: string, now: number): Promise<DailyReport> {
  return inSnapshot(pool, async (client) => {
    const [point] = await daily(client, day, day, null);
    const { rows: top } = await client.query<{
      event_id: string;
      name: string;
      bookings: number;
      tickets: number;
      cancellations: number;
      revenue: number;
    }>(
      `SELECT x.event_id, e.name, x.bookings, x.tickets, x.cancellations, x.revenue::float8 AS revenue
         FROM analytics_days x JOIN events e ON e.id = x.event_id
        WHERE x.day = $1 ORDER BY x.tickets DESC, x.event_id LIMIT ${TOP_EVENTS}`,
      [day],
    );
    const { rows: alerts } = await client.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM analytics_alerts WHERE raised_at >= $1::date::timestamp AT TIME ZONE 'UTC' AND raised_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
        ORDER BY raised_at DESC, id DESC LIMIT ${DAY_ALERTS}`,
      [day],
    );
    return {
      day: expectRow(point, 'analytics daily series of one day'),
      topEvents: top.map((r) => ({
        eventId: r.event_id,
        name: r.name,
        bookings: r.bookings,
        tickets: r.tickets,
        cancellations: r.cancellations,
        revenue: r.revenue,
      })),
      alerts: alerts.map(toAlert),
      totals: await totals(client, at(now)),
      generatedAt: new Date(now).toISOString(),
    };
  });
}
