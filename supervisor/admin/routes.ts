// The operator routes (docs/operations.md, "The supervisor's admin endpoint"), each a line or two
// over SupervisorControl.
// Everything but /healthz and /metrics needs an admin token: a JWT with role
// admin signed with EVENTLY_JWT_SECRET, as `POST /v1/auth/login` issues.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DeadLetterIdParam,
  DeadLettersQuery,
  DeadLettersReply,
  DeadLetterView,
  PoolKindParam,
  PoolReport,
  PoolsReply,
  ScaleRequest,
  ShardsReply,
} from '../../protocol/index.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { SupervisorControl } from '../control.js';
import type { DeadLetterAdmin } from './dead-letters.js';
import type { SupervisorMetrics } from './metrics.js';

export interface AdminDeps {
  control: SupervisorControl;
  metrics: SupervisorMetrics;
  deadLetters: DeadLetterAdmin;
}

export const adminRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, { control, metrics, deadLetters }) => {
  app.get('/healthz', async () => ({ status: 'ok', state: control.current }));

  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  const admin = { preHandler: app.requireAdmin };

  app.get('/pools', { ...admin, schema: { response: { 200: PoolsReply } } }, () => control.report());

  app.get('/shards', { ...admin, schema: { response: { 200: ShardsReply } } }, () => control.shards());

  app.post(
    '/pools/:kind/restart',
    { ...admin, schema: { params: PoolKindParam, response: { 200: PoolReport } } },
    async (request, reply) => sendOutcome(reply, await control.restart(request.params.kind)),
  );

  app.post(
    '/pools/:kind/scale',
    { ...admin, schema: { params: PoolKindParam, body: ScaleRequest, response: { 200: PoolReport } } },
    async (request, reply) => sendOutcome(reply, await control.scale(request.params.kind, request.body.threads)),
  );

  app.get(
    '/dead-letters',
    { ...admin, schema: { querystring: DeadLettersQuery, response: { 200: DeadLettersReply } } },
    (request) => deadLetters.list(request.query),
  );

  app.post(
    '/dead-letters/:id/replay',
    { ...admin, schema: { params: DeadLetterIdParam, response: { 200: DeadLetterView } } },
    async (request, reply) => sendOutcome(reply, await deadLetters.replay(request.params.id)),
  );

  app.post('/drain', { ...admin, schema: { response: { 200: Type.Object({ state: Type.String() }) } } }, async () => {
    await control.drain();
    return { state: control.current };
  });
};
