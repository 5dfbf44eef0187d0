import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuthReply, identity, Login, Register } from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome, sendProblem } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { examples, withExample } from './examples.js';
import { IdempotencyHeaders, problems } from './schemas.js';

export const authRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.post(
    '/v1/auth/register',
    {
      config: { rateTier: 'auth', audit: 'auth.register' },
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        headers: IdempotencyHeaders,
        body: withExample(Register, examples.register),
        response: { 201: withExample(AuthReply, examples.auth), ...problems(400, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      request.auditSubject = request.body.email.toLowerCase();
      const outcome = await broker.call(identity.register, request.body, callContext(request));
      // Signed as of the account's creation, so a retry with the same Idempotency-Key gets the same body.
      return outcome.ok
        ? reply.code(201).send({
            token: app.issueToken(outcome.value, Date.parse(outcome.value.user.createdAt)),
            user: outcome.value.user,
          })
        : sendOutcome(reply, outcome);
    },
  );

  app.post(
    '/v1/auth/login',
    {
      config: { rateTier: 'auth', audit: 'auth.login' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in',
        body: withExample(Login, examples.login),
        response: { 200: withExample(AuthReply, examples.auth), ...problems(400, 401, 429, 503, 504) },
      },
    },
    async (request, reply) => {
      request.auditSubject = request.body.email.toLowerCase();
      const wait = await app.loginFailures.waitFor(request);
      if (wait > 0) {
        reply.header('retry-after', wait);
        return sendProblem(
          reply,
          'RATE_LIMITED',
          `too many failed logins for this account from this address; retry in ${wait} s`,
        );
      }
      const delay = await app.loginFailures.slowDown(request);
      if (delay > 0) await sleep(delay);
      const outcome = await broker.call(identity.login, request.body, callContext(request));
      if (outcome.ok) return { token: app.issueToken(outcome.value), user: outcome.value.user };
      if (outcome.code === 'INVALID_CREDENTIALS') await app.loginFailures.record(request);
      return sendOutcome(reply, outcome);
    },
  );
};
