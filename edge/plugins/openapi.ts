// The OpenAPI document is generated from the same TypeBox schemas the routes
// validate with, so it cannot drift from what the edge accepts. UI at /docs,
// JSON at /docs/json.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { errorCatalogue } from '../../protocol/index.js';
import { problems } from '../routes/schemas.js';

/** Any route can meet the rate limits, an internal error, or an overloaded edge. */
const EVERY_ROUTE = [429, 500, 503];

const catalogueTable = [
  '| code | status | title | retryable |',
  '| --- | --- | --- | --- |',
  ...Object.entries(errorCatalogue).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.title} | ${e.retryable ? 'yes' : 'no'} |`,
  ),
].join('\n');

export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Evently API',
        version,
        description: `Event ticketing: browse events, book and cancel tickets. Errors are application/problem+json (RFC 9457) with a stable \`code\`:\n\n${catalogueTable}`,
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [{ name: 'auth' }, { name: 'events' }, { name: 'bookings' }, { name: 'admin' }, { name: 'ops' }],
    },
  });
  // The UI's own content policy (for its scripts and styles) replaces the API's strict one on /docs.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { hide?: boolean; response?: Record<string, unknown> } | undefined;
    if (!schema || schema.hide) return;
    schema.response = { ...problems(...EVERY_ROUTE.filter((s) => !schema.response?.[s])), ...schema.response };
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}
