// Admin analytics: the summary and one event's figures (what the dashboard
// reads), the daily report, rebuilding the roll-ups, and a streamed CSV of
// an event's bookings. Every route is admin only; the actor checks again.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { NatsConnection } from 'nats';
import {
  analytics,
  AnalyticsSummary,
  DailyReport,
  DailyReportQuery,
  EventAnalytics,
  RebuildAnalytics,
  RebuildResult,
  subjectFor,
} from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { analyticsExamples as examples } from './analytics-examples.js';
import { openBookingsExport } from './analytics-export.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';

/** A rebuild reads every booking or replays the whole stream: it may take far longer than a request. */
const REBUILD_TIMEOUT_MS = 300_000;

export interface AnalyticsDeps extends EdgeDeps {
  nc: NatsConnection;
}

export const analyticsRoutes: FastifyPluginAsyncTypebox<AnalyticsDeps> = async (app, { broker, nc }) => {
  const common = { tags: ['admin'], security: bearer };

  app.get(
    '/v1/admin/analytics/summary',
    {
      onRequest: app.requireAdmin,
      schema: {
        ...common,
        summary: 'Analytics summary: totals, top events, daily series, recent alerts (admin)',
        description:
          'Figures are folded from the domain event stream within moments of each change; ' +
          'see docs/api.md (Analytics) for each definition.',
        response: { 200: withExample(AnalyticsSummary, examples.summary), ...problems(401, 403, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(analytics.summary, {}, callContext(request))),
  );

  app.get(
    '/v1/admin/analytics/events/:id',
    {
      onRequest: app.requireAdmin,
      schema: {
        ...common,
        summary: "One event's figures, daily series and alerts (admin)",
        params: IdParams,
        response: { 200: withExample(EventAnalytics, examples.event), ...problems(400, 401, 403, 404, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(analytics.event, { eventId: request.params.id }, callContext(request))),
  );

  app.get(
    '/v1/admin/analytics/events/:id/bookings.csv',
    {
      onRequest: app.requireAdmin,
      schema: {
        ...common,
        summary: 'Every booking of an event as CSV, streamed (admin)',
        params: IdParams,
        description:
          'Streams in constant memory however many bookings there are. A download that breaks off mid-way ends without the final chunk, so it never looks complete.',
        response: {
          200: {
            description: 'RFC 4180 CSV with a header row',
            content: { 'text/csv': { schema: { type: 'string', examples: [examples.csv] } } },
          },
          ...problems(400, 401, 403, 404, 504),
        },
      },
    },
    async (request, reply) => {
      const opened = await openBookingsExport(nc, broker, request.params.id, callContext(request));
      if (!opened.ok) return sendOutcome(reply, opened);
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="bookings-${request.params.id}.csv"`)
          // The schema documents the CSV text; Fastify sends a stream as it comes.
          .send(opened.value as unknown as string)
      );
    },
  );

  app.get(
    '/v1/admin/analytics/reports/daily',
    {
      onRequest: app.requireAdmin,
      schema: {
        ...common,
        summary: 'The report of one UTC day, as the scheduled mail sends it (admin)',
        querystring: DailyReportQuery,
        response: { 200: withExample(DailyReport, examples.dailyReport), ...problems(400, 401, 403, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(analytics.dailyReport, request.query, callContext(request))),
  );

  app.post(
    '/v1/admin/analytics/rebuild',
    {
      onRequest: app.requireAdmin,
      schema: {
        ...common,
        summary: 'Rebuild the analytics roll-ups from the bookings tables or the event stream (admin)',
        description:
          'Recomputes every figure exactly; live updates wait meanwhile and are applied after. Alerts are kept.',
        body: withExample(RebuildAnalytics, examples.rebuildBody),
        response: { 200: withExample(RebuildResult, examples.rebuilt), ...problems(400, 401, 403, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.callSubject(subjectFor(analytics.rebuild), request.body, callContext(request), REBUILD_TIMEOUT_MS),
      ),
  );
};
