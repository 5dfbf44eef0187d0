// Pricing routes: anyone reads the price in force; admins set the policy
// and read the history of changes. All go to the pricing actor of the
// event's shard.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageQuery, PriceHistoryPage, PriceQuote, pricing, PricingBody, PricingPolicy } from '../../protocol/index.js';
import { callContext } from '../../platform/broker.js';
import { sendOutcome } from '../../platform/http/problems.js';
import type { EdgeDeps } from '../deps.js';
import { examples, withExample } from './examples.js';
import { bearer, IdParams, problems } from './schemas.js';

const HistoryQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

export const pricingRoutes: FastifyPluginAsyncTypebox<EdgeDeps> = async (app, { broker }) => {
  app.get(
    '/v1/events/:id/price',
    {
      schema: {
        tags: ['pricing'],
        summary: 'The price in force, its base and why',
        params: IdParams,
        description:
          'A booking is charged the price in force when it commits (its `unitPrice`). Under dynamic pricing the price may change at `validUntil` at the earliest.',
        response: { 200: withExample(PriceQuote, examples.priceQuote), ...problems(400, 404, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await broker.call(pricing.quote, { eventId: request.params.id }, callContext(request))),
  );

  app.put(
    '/v1/events/:id/pricing',
    {
      onRequest: app.requireAdmin,
      config: { audit: 'event.pricing' },
      schema: {
        tags: ['pricing'],
        summary: 'Set the pricing policy: fixed, or dynamic within [floor, ceiling] (admin)',
        security: bearer,
        params: IdParams,
        body: withExample(PricingBody, examples.pricingBody),
        description:
          'Dynamic pricing weighs demand at every interval boundary and moves the price by at most `maxStep` each time. A price outside a new range is moved into it at once.',
        response: {
          200: withExample(PricingPolicy, examples.pricingPolicy),
          ...problems(400, 401, 403, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(
          pricing.setPolicy,
          { eventId: request.params.id, pricing: request.body },
          callContext(request),
        ),
      ),
  );

  app.get(
    '/v1/events/:id/price/history',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['pricing'],
        summary: 'Price changes of an event, newest first (admin)',
        security: bearer,
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: withExample(PriceHistoryPage, examples.priceHistory), ...problems(400, 401, 403, 503, 504) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await broker.call(pricing.history, { eventId: request.params.id, ...request.query }, callContext(request)),
      ),
  );
};
