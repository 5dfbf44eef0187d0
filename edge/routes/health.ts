// Liveness says the process answers. Readiness says it can do its job: the
// broker is connected, and every inventory, waitlist and pricing shard and the
// identity, audit, mailer and analytics actors answer a ping (which touches the database).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { analytics, audit, identity, inventory, mailer, pricing, subjectFor, waitlist, waitroom } from '../../actors/protocol/index.js';
import { sendProblem } from '../plugins/problems.js';
import type { EdgeDeps } from '../server.js';
import { examples, withExample } from './examples.js';
import { problems } from './schemas.js';

const PING_TIMEOUT_MS = 1000;
const Ready = Type.Object({ status: Type.Literal('ready'), shards: Type.Integer() });

export const healthRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker, shards }) => {
  app.get('/healthz', { config: { rateTier: 'none' }, schema: { tags: ['ops'], summary: 'Liveness', response: { 200: withExample(Type.Object({ status: Type.Literal('ok') }), examples.health) } } },
    async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { rateTier: 'none' },
    schema: { tags: ['ops'], summary: 'Readiness: every shard and actor answers', response: { 200: withExample(Ready, examples.ready), ...problems(503) } },
  }, async (request, reply) => {
    const ctx = { requestId: request.id };
    const targets = [
      ...Array.from({ length: shards }, (_, shard) => ({ name: `inventory shard ${shard}`, subject: subjectFor(inventory.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ name: `waitlist shard ${shard}`, subject: subjectFor(waitlist.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ name: `pricing shard ${shard}`, subject: subjectFor(pricing.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ name: `waitroom shard ${shard}`, subject: subjectFor(waitroom.ping, shard) })),
      { name: 'identity', subject: subjectFor(identity.ping) },
      { name: 'mailer', subject: subjectFor(mailer.ping) },
      { name: 'analytics', subject: subjectFor(analytics.ping) },
      { name: 'audit', subject: subjectFor(audit.ping) },
    ];
    const results = await Promise.all(targets.map((t) => broker.callSubject(t.subject, {}, ctx, PING_TIMEOUT_MS)));
    const down = targets.filter((_, i) => !results[i].ok).map((t) => t.name);
    return down.length === 0
      ? reply.send({ status: 'ready', shards })
      : sendProblem(reply, 'UNAVAILABLE', `not answering: ${down.join(', ')}`);
  });
};
