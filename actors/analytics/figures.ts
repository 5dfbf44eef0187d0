// The figures the admin API and the dashboard read, from the roll-ups joined
// with the events table (name, capacity, seats on sale). Each answer is read
// in one repeatable-read, read-only transaction, so its parts agree; it runs
// on the read pool (a replica when DATABASE_READ_URL is set).
import type { Pool, PoolClient } from 'pg';
import type { AnalyticsAlertItem, AnalyticsTotals, DailyPoint, EventFigures } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { inTransaction } from '../../platform/resources.js';
import { ALERT_COLUMNS, toAlert, type AlertRow } from './alerts.js';
import { MINUTE_MS } from './anomalies.js';

/** Velocity is tickets booked in the current UTC minute and the ones before it, over this many minutes. */
export const VELOCITY_MINUTES = 5;
export const TOP_EVENTS = 10;
export const SERIES_DAYS = 30;
export const RECENT_ALERTS = 20;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** The clock one answer is computed at, and the velocity window it implies. */
export interface At {
  now: number;
  windowStart: string;
  windowEnd: string;
}
export function at(now: number): At {
  const windowStart = Math.floor(now / MINUTE_MS) * MINUTE_MS - (VELOCITY_MINUTES - 1) * MINUTE_MS;
  return { now, windowStart: new Date(windowStart).toISOString(), windowEnd: new Date(now).toISOString() };
}

const ratio = (part: number, whole: number): number => (whole > 0 ? Math.min(1, part / whole) : 0);

interface FigureRow {
  id: string;
  name: string;
  status: EventFigures['status'];
  starts_at: Date;
  capacity: number;
  price: number;
  available: number;
  bookings: number;
  tickets: number;
  cancellations: number;
  revenue: number;
  offers_made: number;
  offers_confirmed: number;
  waitlist: number;
  recent: number;
}

// $1, $2: the velocity window.
const FIGURES = `SELECT e.id, e.name, e.status, e.starts_at, e.capacity, e.price, e.available,
    coalesce(a.bookings, 0) AS bookings, coalesce(a.tickets, 0) AS tickets, coalesce(a.cancellations, 0) AS cancellations,
    coalesce(a.revenue, 0)::float8 AS revenue, coalesce(a.offers_made, 0) AS offers_made, coalesce(a.offers_confirmed, 0) AS offers_confirmed,
    (SELECT count(*)::int FROM analytics_waitlist w WHERE w.event_id = e.id AND w.status IN ('waiting', 'offered')) AS waitlist,
    (SELECT coalesce(sum(m.tickets), 0)::int FROM analytics_minutes m WHERE m.event_id = e.id AND m.minute >= $1 AND m.minute <= $2) AS recent
  FROM events e LEFT JOIN analytics_events a ON a.event_id = e.id`;

function toFigures(r: FigureRow, { now }: At): EventFigures {
  const velocity = r.recent / VELOCITY_MINUTES;
  const sellOut =
    velocity > 0 && r.available > 0 && r.status === 'scheduled' ? now + (r.available / velocity) * MINUTE_MS : null;
  return {
    eventId: r.id,
    name: r.name,
    status: r.status,
    startsAt: r.starts_at.toISOString(),
    capacity: r.capacity,
    price: r.price,
    bookings: r.bookings,
    tickets: r.tickets,
    cancellations: r.cancellations,
    cancellationRate: ratio(r.cancellations, r.bookings + r.cancellations),
    revenue: r.revenue,
    utilization: ratio(r.tickets, r.capacity),
    velocity,
    waitlistLength: r.waitlist,
    waitlistConversion: ratio(r.offers_confirmed, r.offers_made),
    // After the doors open it is too late to sell out.
    sellOutAt: sellOut !== null && sellOut < r.starts_at.getTime() ? new Date(sellOut).toISOString() : null,
  };
}

export async function eventFigures(client: PoolClient, eventId: string, when: At): Promise<EventFigures | undefined> {
  const { rows } = await client.query<FigureRow>(`${FIGURES} WHERE e.id = $3`, [
    when.windowStart,
    when.windowEnd,
    eventId,
  ]);
  return rows[0] && toFigures(rows[0], when);
}

/** Most popular first: by tickets still sold, then the sooner event. */
export async function topEvents(client: PoolClient, when: At): Promise<EventFigures[]> {
  const { rows } = await client.query<FigureRow>(
    `${FIGURES} ORDER BY coalesce(a.tickets, 0) DESC, e.starts_at, e.id LIMIT ${TOP_EVENTS}`,
    [when.windowStart, when.windowEnd],
  );
  return rows.map((r) => toFigures(r, when));
}

export async function totals(client: PoolClient, when: At): Promise<AnalyticsTotals> {
  const {
    rows: [totalsRow],
  } = await client.query<{
    events: number;
    bookings: number;
    tickets: number;
    cancellations: number;
    revenue: number;
    sold: number;
    capacity: number;
    recent: number;
  }>(
    `SELECT count(*)::int AS events, coalesce(sum(a.bookings), 0)::float8 AS bookings, coalesce(sum(a.tickets), 0)::float8 AS tickets,
             coalesce(sum(a.cancellations), 0)::float8 AS cancellations, coalesce(sum(a.revenue), 0)::float8 AS revenue,
             coalesce(sum(a.tickets) FILTER (WHERE e.status = 'scheduled'), 0)::float8 AS sold,
             coalesce(sum(e.capacity) FILTER (WHERE e.status = 'scheduled'), 0)::float8 AS capacity,
             (SELECT coalesce(sum(m.tickets), 0)::float8 FROM analytics_minutes m WHERE m.minute >= $1 AND m.minute <= $2) AS recent
        FROM events e LEFT JOIN analytics_events a ON a.event_id = e.id`,
    [when.windowStart, when.windowEnd],
  );
  const r = expectRow(totalsRow, 'analytics totals');
  return {
    events: r.events,
    bookings: r.bookings,
    tickets: r.tickets,
    cancellations: r.cancellations,
    cancellationRate: ratio(r.cancellations, r.bookings + r.cancellations),
    revenue: r.revenue,
    utilization: ratio(r.sold, r.capacity),
    velocity: r.recent / VELOCITY_MINUTES,
  };
}

/** UTC days from `first` to `last`, zeros included; one event's, or everyone's. */
export async function daily(
  client: PoolClient,
  first: string,
  last: string,
  eventId: string | null,
): Promise<DailyPoint[]> {
  const { rows } = await client.query<DailyPoint>(
    `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(sum(x.bookings), 0)::int AS bookings, coalesce(sum(x.tickets), 0)::int AS tickets,
            coalesce(sum(x.cancellations), 0)::int AS cancellations, coalesce(sum(x.revenue), 0)::float8 AS revenue
       FROM (SELECT $1::date + i AS day FROM generate_series(0, $2::date - $1::date) i) d
       LEFT JOIN analytics_days x ON x.day = d.day AND ($3::uuid IS NULL OR x.event_id = $3)
      GROUP BY d.day ORDER BY d.day`,
    [first, last, eventId],
  );
  return rows;
}

/** The series' first and last day: the last SERIES_DAYS UTC days up to today. */
export function seriesDays(now: number): [string, string] {
  return [
    new Date(now - (SERIES_DAYS - 1) * DAY_MS).toISOString().slice(0, 10),
    new Date(now).toISOString().slice(0, 10),
  ];
}

export async function recentAlerts(
  client: PoolClient,
  eventId: string | null,
  limit = RECENT_ALERTS,
): Promise<AnalyticsAlertItem[]> {
  const { rows } = await client.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM analytics_alerts WHERE ($1::uuid IS NULL OR event_id = $1)
      ORDER BY raised_at DESC, id DESC LIMIT $2`,
    [eventId, limit],
  );
  return rows.map(toAlert);
}

/** Runs reads in one snapshot, read-only (allowed on a hot standby). */
export const inSnapshot = <T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> =>
  inTransaction(pool, fn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
