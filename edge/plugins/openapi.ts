// The OpenAPI document is generated from the same TypeBox schemas the routes
// validate with, so it cannot drift from what the edge accepts. UI at /docs,
// JSON at /docs/json.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Evently API',
        version,
        description: 'Event ticketing: browse events, book and cancel tickets. Errors are application/problem+json (RFC 9457) with a stable `code`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [{ name: 'auth' }, { name: 'events' }, { name: 'bookings' }, { name: 'admin' }, { name: 'ops' }],
    },
  });
  // The UI's own content policy (for its scripts and styles) replaces the API's strict one on /docs.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}
