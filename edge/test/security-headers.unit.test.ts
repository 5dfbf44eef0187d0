// The security and CORS headers the edge sets once per reply from sets worked
// out at start (edge/plugins/security.ts) are exactly what @fastify/helmet and
// @fastify/cors send with the same options: same status, body and headers on
// a JSON route, a route with its own content policy, an error reply, a 404,
// preflights (good, malformed, without CORS) and a request from another
// origin, with an allow-list, with '*', and with no CORS at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, type InjectOptions, type RouteShorthandOptions } from 'fastify';
import { installProblems, sendProblem } from '../../platform/http/problems.js';
import { PAGE_CSP } from '../pages/render.js';
import { API_HELMET, corsSettings, installSecurityHeaders } from '../plugins/security.js';

const ALLOWED = 'https://app.example.test';

function routes(app: FastifyInstance, pageOptions: RouteShorthandOptions): void {
  installProblems(app);
  app.get('/v1/events', async () => ({ items: [{ id: 'e1' }] }));
  app.post('/v1/events/:id/bookings', async (_request, reply) => sendProblem(reply, 'NOT_ADMITTED', 'no admission'));
  app.get('/v1/broken', async () => {
    throw new Error('boom');
  });
  app.get('/pages/hold', pageOptions, async (_request, reply) => reply.type('text/html').send('<p>hold</p>'));
}

/** Today's way: the two plugins. */
async function withPlugins(corsOrigins: string[]): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(helmet, API_HELMET as Parameters<typeof helmet>[1]);
  await app.register(cors, corsSettings({ corsOrigins }));
  routes(app, { helmet: { contentSecurityPolicy: PAGE_CSP } });
  await app.ready();
  return app;
}

/** The edge's way: one hook, header sets worked out once. */
async function withHook(corsOrigins: string[]): Promise<FastifyInstance> {
  const app = Fastify();
  installSecurityHeaders(app, { corsOrigins });
  routes(app, { config: { csp: PAGE_CSP } });
  await app.ready();
  return app;
}

type Ask = InjectOptions;
const asks: Record<string, Ask> = {
  'JSON GET': { method: 'GET', url: '/v1/events' },
  'JSON GET from the allowed origin': { method: 'GET', url: '/v1/events', headers: { origin: ALLOWED } },
  'JSON GET from another origin': {
    method: 'GET',
    url: '/v1/events',
    headers: { origin: 'https://evil.example.test' },
  },
  'problem reply': {
    method: 'POST',
    url: '/v1/events/e1/bookings',
    headers: { origin: ALLOWED, 'content-type': 'application/json' },
    payload: '{}',
  },
  'thrown error': { method: 'GET', url: '/v1/broken', headers: { origin: ALLOWED } },
  'page with its own policy': { method: 'GET', url: '/pages/hold', headers: { origin: ALLOWED } },
  'not found': { method: 'GET', url: '/v1/nothing-here', headers: { origin: ALLOWED } },
  preflight: {
    method: 'OPTIONS',
    url: '/v1/events/e1/bookings',
    headers: {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,idempotency-key',
    },
  },
  'preflight from another origin': {
    method: 'OPTIONS',
    url: '/v1/events',
    headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'GET' },
  },
  'preflight without its method': { method: 'OPTIONS', url: '/v1/events', headers: { origin: ALLOWED } },
  'OPTIONS of an unknown path': { method: 'OPTIONS', url: '/nowhere' },
};

async function answer(app: FastifyInstance, ask: Ask) {
  const res = await app.inject(ask);
  const headers = Object.entries(res.headers)
    .filter(([name]) => name !== 'date')
    .map(([name, value]) => `${name}: ${String(value)}`)
    .sort();
  return { status: res.statusCode, body: res.body, headers };
}

for (const [setting, corsOrigins] of Object.entries({
  'an allow-list': [ALLOWED],
  "'*'": ['*'],
  'no CORS': [],
})) {
  test(`when the edge answers with ${setting}, then its security and CORS headers are what helmet and @fastify/cors send`, async () => {
    const before = await withPlugins(corsOrigins);
    const now = await withHook(corsOrigins);
    try {
      for (const [name, ask] of Object.entries(asks)) {
        const expected = await answer(before, ask);
        assert.ok(expected.headers.length > 5, `${name}: the reference sent headers`);
        assert.deepEqual(await answer(now, ask), expected, name);
      }
    } finally {
      await before.close();
      await now.close();
    }
  });
}
