// Liveness says the process answers. Readiness says it can do its job: the
// broker is connected, and every inventory, waitlist, pricing and check-in shard and the
// identity, audit, mailer, analytics and webhooks actors answer a ping (which touches the database).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { analytics, audit, checkin, identity, inventory, mailer, pricing, subjectFor, waitlist, waitroom, webhooks, type ActorKind } from '../../protocol/index.js';
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
  app.get('/healthz', { config: { rateTier: 'none' }, schema: { tags: ['ops'], summary: 'Liveness', response: { 200: withExample(Type.Object({ status: Type.Literal('ok') }), examples.health) } } },
    async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { rateTier: 'none' },
    schema: { tags: ['ops'], summary: 'Readiness: every shard and actor answers', response: { 200: withExample(Ready, examples.ready), ...problems(503) } },
  }, async (request, reply) => {
    const ctx = { requestId: request.id };
    const targets = [
      ...Array.from({ length: shards }, (_, shard) => ({ kind: 'inventory', name: `inventory shard ${shard}`, subject: subjectFor(inventory.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ kind: 'waitlist', name: `waitlist shard ${shard}`, subject: subjectFor(waitlist.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ kind: 'pricing', name: `pricing shard ${shard}`, subject: subjectFor(pricing.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ kind: 'waitroom', name: `waitroom shard ${shard}`, subject: subjectFor(waitroom.ping, shard) })),
      ...Array.from({ length: shards }, (_, shard) => ({ kind: 'checkin', name: `check-in shard ${shard}`, subject: subjectFor(checkin.ping, shard) })),
      { kind: 'identity', name: 'identity', subject: subjectFor(identity.ping) },
      { kind: 'mailer', name: 'mailer', subject: subjectFor(mailer.ping) },
      { kind: 'analytics', name: 'analytics', subject: subjectFor(analytics.ping) },
      { kind: 'audit', name: 'audit', subject: subjectFor(audit.ping) },
      { kind: 'webhooks', name: 'webhooks', subject: subjectFor(webhooks.ping) },
      // Pools switched off by configuration are not waited for: their work waits in the stream.
    ].filter((t) => !disabledPools.includes(t.kind));
    const results = await Promise.all(targets.map((t) =>
      broker.callSubject(t.subject, {}, ctx, BACKGROUND_KINDS.has(t.kind as ActorKind) ? BACKGROUND_PING_TIMEOUT_MS : PING_TIMEOUT_MS)));
    const down = targets.filter((_, i) => !results[i]?.ok).map((t) => t.name);
    return down.length === 0
      ? reply.send({ status: 'ready', shards })
      : sendProblem(reply, 'UNAVAILABLE', `not answering: ${down.join(', ')}`);
  });
};
