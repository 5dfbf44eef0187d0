// Liveness says the process answers. Readiness says it can do its job: the
// broker is connected, and every actor kind of the protocol's catalogue answers
// its ping (which touches the database): on every shard when its ping is
// shard-scoped, else once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACTOR_KINDS, operations, subjectFor } from '../../protocol/index.js';
import { BACKGROUND_KINDS } from '../../platform/actor.js';
import { sendProblem } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { examples, withExample } from './examples.js';
import { problems } from './schemas.js';

const PING_TIMEOUT_MS = 1000;
/** Background threads run at a lower priority; on a busy machine their answer may take longer without anything being wrong. */
const BACKGROUND_PING_TIMEOUT_MS = 5000;
const Ready = Type.Object({ status: Type.Literal('ready'), shards: Type.Integer() });

export const healthRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker, shards, disabledPools }) => {
  app.get(
    '/healthz',
    {
      config: { rateTier: 'none' },
      schema: {
        tags: ['ops'],
        summary: 'Liveness',
        response: { 200: withExample(Type.Object({ status: Type.Literal('ok') }), examples.health) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateTier: 'none' },
      schema: {
        tags: ['ops'],
        summary: 'Readiness: every shard and actor answers',
        response: { 200: withExample(Ready, examples.ready), ...problems(503) },
      },
    },
    async (request, reply) => {
      const ctx = { requestId: request.id };
      // Pools switched off by configuration are not waited for: their work waits in the stream.
      const targets = ACTOR_KINDS.filter((kind) => !disabledPools.includes(kind)).flatMap((kind) => {
        const ping = operations[kind].ping;
        return ping.scope === 'shard'
          ? Array.from({ length: shards }, (_, shard) => ({
              kind,
              name: `${kind} shard ${shard}`,
              subject: subjectFor(ping, shard),
            }))
          : [{ kind, name: kind, subject: subjectFor(ping) }];
      });
      const results = await Promise.all(
        targets.map((t) =>
          broker.callSubject(
            t.subject,
            {},
            ctx,
            BACKGROUND_KINDS.has(t.kind) ? BACKGROUND_PING_TIMEOUT_MS : PING_TIMEOUT_MS,
          ),
        ),
      );
      const down = targets.filter((_, i) => !results[i]?.ok).map((t) => t.name);
      return down.length === 0
        ? reply.send({ status: 'ready', shards })
        : sendProblem(reply, 'UNAVAILABLE', `not answering: ${down.join(', ')}`);
    },
  );
};
