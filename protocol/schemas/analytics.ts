// What the analytics actor answers and the admin analytics API and the live
// dashboard show. Declared before either side was written, so both follow
// this one shape; extend it additively. Money is in minor units, rates and
// utilization are fractions in [0, 1], velocity is tickets per minute.
import { Type, type Static } from 'typebox';
import { Money, Timestamp, Uuid } from './common.js';
import { EventStatus } from './events.js';

const Count = Type.Integer({ minimum: 0 });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });

export const AlertKind = Type.Union([
  Type.Literal('velocity-spike'),
  Type.Literal('cancellation-burst'),
  Type.Literal('stalled-sale'),
]);

export const AnalyticsAlertItem = Type.Object({
  id: Uuid,
  eventId: Uuid,
  kind: AlertKind,
  observed: Type.Number(),
  baseline: Type.Number(),
  detail: Type.String(),
  raisedAt: Timestamp,
});
export type AnalyticsAlertItem = Static<typeof AnalyticsAlertItem>;

export const DailyPoint = Type.Object({
  day: Type.String({ format: 'date', description: 'UTC day, YYYY-MM-DD' }),
  bookings: Count,
  tickets: Count,
  cancellations: Count,
  revenue: Type.Integer({ description: 'Confirmed minus refunded, minor units' }),
});
export type DailyPoint = Static<typeof DailyPoint>;

/** One event's figures. */
export const EventFigures = Type.Object({
  eventId: Uuid,
  name: Type.String(),
  status: EventStatus,
  startsAt: Timestamp,
  capacity: Count,
  price: Money,
  bookings: Type.Integer({ minimum: 0, description: 'Bookings confirmed and not cancelled' }),
  tickets: Type.Integer({ minimum: 0, description: 'Seats in those bookings' }),
  cancellations: Count,
  cancellationRate: Type.Number({ minimum: 0, maximum: 1, description: 'cancellations / (bookings + cancellations)' }),
  revenue: Type.Integer({ description: 'Sum of total price of bookings still confirmed' }),
  utilization: Type.Number({ minimum: 0, maximum: 1, description: 'tickets / capacity' }),
  velocity: Type.Number({ minimum: 0, description: 'Tickets per minute over the last 5 minutes' }),
  waitlistLength: Count,
  waitlistConversion: Type.Number({ minimum: 0, maximum: 1, description: 'Waitlist offers confirmed / offers made' }),
  sellOutAt: Type.Union([Timestamp, Type.Null()], {
    description: 'When the event sells out at the current velocity; null if it will not (or already has)',
  }),
});
export type EventFigures = Static<typeof EventFigures>;

export const AnalyticsTotals = Type.Object({
  events: Count,
  bookings: Count,
  tickets: Count,
  cancellations: Count,
  cancellationRate: Fraction,
  revenue: Type.Integer(),
  utilization: Type.Number({ minimum: 0, maximum: 1, description: 'Tickets / capacity over scheduled events' }),
  velocity: Type.Number({ minimum: 0 }),
});
export type AnalyticsTotals = Static<typeof AnalyticsTotals>;

/** GET /v1/admin/analytics/summary */
export const AnalyticsSummary = Type.Object({
  totals: AnalyticsTotals,
  topEvents: Type.Array(EventFigures, { description: 'Most popular events, by tickets sold' }),
  daily: Type.Array(DailyPoint, { description: 'The last 30 UTC days, oldest first' }),
  alerts: Type.Array(AnalyticsAlertItem, { description: 'The most recent alerts, newest first' }),
  generatedAt: Timestamp,
});
export type AnalyticsSummary = Static<typeof AnalyticsSummary>;

/** GET /v1/admin/analytics/events/:id */
export const EventAnalytics = Type.Object({
  figures: EventFigures,
  daily: Type.Array(DailyPoint),
  alerts: Type.Array(AnalyticsAlertItem),
  generatedAt: Timestamp,
});
export type EventAnalytics = Static<typeof EventAnalytics>;
