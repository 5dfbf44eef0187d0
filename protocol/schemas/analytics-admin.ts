// Requests to the analytics actor beside the two figures replies of
// analytics.ts: rebuilding the roll-ups, the daily report (the mailer's
// scheduled summary) and starting a CSV export.
import { Type, type Static } from 'typebox';
import { AnalyticsAlertItem, AnalyticsTotals, DailyPoint } from './analytics.js';
import { Day, Timestamp, Uuid } from './common.js';

export const RebuildSource = Type.Union([Type.Literal('bookings'), Type.Literal('stream')], {
  description:
    'bookings: from the bookings, holds and waitlist tables; stream: replay the domain event stream from its start',
});

/** Body of POST /v1/admin/analytics/rebuild. */
export const RebuildAnalytics = Type.Object({ source: RebuildSource }, { additionalProperties: false });
export type RebuildAnalytics = Static<typeof RebuildAnalytics>;

export const RebuildResult = Type.Object({
  source: RebuildSource,
  applied: Type.Integer({ minimum: 0, description: 'Rows read (bookings) or domain events replayed (stream)' }),
  firstSequence: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Stream only: first sequence replayed; above 1, older events had aged out and are missing',
  }),
  lastSequence: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Stream only: the stream sequence the rebuild reached; later events are applied live',
  }),
  tookMs: Type.Integer({ minimum: 0 }),
});
export type RebuildResult = Static<typeof RebuildResult>;

export const DailyReportQuery = Type.Object(
  {
    day: Day,
  },
  { additionalProperties: false },
);
export type DailyReportQuery = Static<typeof DailyReportQuery>;

export const DayEventFigures = Type.Object({
  eventId: Uuid,
  name: Type.String(),
  bookings: Type.Integer({ minimum: 0 }),
  tickets: Type.Integer({ minimum: 0 }),
  cancellations: Type.Integer({ minimum: 0 }),
  revenue: Type.Integer(),
});

/** The summary of one UTC day, for the scheduled report mail. */
export const DailyReport = Type.Object({
  day: DailyPoint,
  topEvents: Type.Array(DayEventFigures, { description: "The day's most popular events, by tickets booked that day" }),
  alerts: Type.Array(AnalyticsAlertItem, { description: 'Alerts raised that day, newest first' }),
  totals: AnalyticsTotals,
  generatedAt: Timestamp,
});
export type DailyReport = Static<typeof DailyReport>;

/** Start a CSV export of an event's bookings, streamed to `inbox` (see analytics-export.ts). */
export const ExportBookings = Type.Object(
  {
    eventId: Uuid,
    inbox: Type.String({ minLength: 1, maxLength: 200, pattern: '^_INBOX\\.[A-Za-z0-9_.]+$' }),
    window: Type.Integer({
      minimum: 1,
      maximum: 64,
      description: "Chunks the actor may send ahead of the reader's credit",
    }),
  },
  { additionalProperties: false },
);
export type ExportBookings = Static<typeof ExportBookings>;

export const ExportStarted = Type.Object({
  creditSubject: Type.String({ description: 'Where the reader sends ExportCredit messages' }),
});
export type ExportStarted = Static<typeof ExportStarted>;
