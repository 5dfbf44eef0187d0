// Admin management of accounts: list and search, disable or enable, change
// the role. A change takes effect at once: the user's tokens stop working and
// their live sockets are signed out (see platform/http/account-states.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminUser, AdminUserPage, identity, ListUsers, RoleBody, StatusBody } from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';

const user = {
  id: '01937a4c-1f00-7000-8000-0000000000aa',
  email: 'me@example.com',
  name: 'Jay Doe',
  role: 'staff',
  status: 'active',
  createdAt: '2026-11-24T20:00:00.000Z',
} as const;

export const userRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  const common = { tags: ['admin'], security: bearer };

  app.get(
    '/v1/admin/users',
    {
      onRequest: app.requireAdmin,
      schema: {
        ...common,
        summary: 'List and search accounts (admin)',
        querystring: ListUsers,
        response: {
          200: withExample(AdminUserPage, { items: [user], nextCursor: null }),
          ...problems(400, 401, 403, 503, 504),
        },
      },
    },
    async (request, reply) => sendOutcome(reply, await broker.call(identity.list, request.query, callContext(request))),
  );

  app.put(
    '/v1/admin/users/:id/status',
    {
      onRequest: app.requireAdmin,
      config: { audit: 'user.status' },
      schema: {
        ...common,
        summary:
          'Disable or enable an account (admin); a disabled user cannot sign in and their tokens stop working at once',
        params: IdParams,
        body: withExample(StatusBody, { status: 'disabled' }),
        response: {
          200: withExample(AdminUser, { ...user, status: 'disabled' }),
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          identity.setStatus,
          { userId: request.params.id, status: request.body.status },
          callContext(request),
        ),
      ),
  );

  app.put(
    '/v1/admin/users/:id/role',
    {
      onRequest: app.requireAdmin,
      config: { audit: 'user.role' },
      schema: {
        ...common,
        summary:
          "Change an account's role: user, staff (checks tickets in) or admin (admin); the user's tokens stop working at once",
        params: IdParams,
        body: withExample(RoleBody, { role: 'staff' }),
        response: { 200: withExample(AdminUser, user), ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          identity.setRole,
          { userId: request.params.id, role: request.body.role },
          callContext(request),
        ),
      ),
  );
};
