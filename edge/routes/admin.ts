// Admin reads of the audit log: filters by user, action, status, problem
// code, request id and time, newest first, with a cursor.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { audit, AuditPage, ListAudit } from '../../protocol/index.js';
import { examples, withExample } from './examples.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { bearer, problems } from './schemas.js';

export const adminRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.get(
    '/v1/admin/audit',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Read the audit log (admin)',
        security: bearer,
        querystring: ListAudit,
        description:
          'One record per state-changing request (POST, PUT, PATCH, DELETE), whatever its outcome. Records arrive within about a second of the request.',
        response: { 200: withExample(AuditPage, examples.auditPage), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(audit.list, request.query, callContext(request))),
  );
};
