// GET /v1/admin/presence: the flash-sale signal ("1,240 people are looking at
// this event"), summed over every edge, plus this edge's own socket figures.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PresenceQuery, PresenceSummary } from '../../protocol/index.js';
import { examples, withExample } from '../routes/examples.js';
import { bearer, problems } from '../routes/schemas.js';
import type { LiveHub } from './hub.js';
import type { Presence } from './presence.js';

export interface PresenceRouteOptions {
  hub: LiveHub;
  presence: Presence;
}

export const presenceRoute: FastifyPluginAsyncTypebox<PresenceRouteOptions> = async (app, { hub, presence }) => {
  app.get(
    '/v1/admin/presence',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['live'],
        summary: 'Clients watching each event across every edge, most watched first (admin)',
        security: bearer,
        querystring: PresenceQuery,
        response: { 200: withExample(PresenceSummary, examples.presence), ...problems(400, 401, 403) },
      },
    },
    async (request) => ({
      ...presence.summary(request.query.limit ?? 100),
      edge: {
        id: presence.edgeId,
        sockets: hub.clients.size,
        skippedFrames: hub.skippedFrames,
        terminated: hub.terminated,
      },
    }),
  );
};
