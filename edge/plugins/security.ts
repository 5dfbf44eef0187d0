// Browser-facing protections and load shedding, from the Fastify plugins
// that do them:
// - @fastify/helmet: security headers. The API answers JSON, so its content
//   policy allows nothing; the OpenAPI UI under /docs sets its own policy
//   (swagger-ui's staticCSP) for its scripts and styles.
// - @fastify/cors: only the configured origins may call the API from a
//   browser; with none configured no CORS header is sent at all.
// - @fastify/under-pressure: while the event loop lags past the configured
//   delay, answer 503 UNAVAILABLE (problem+json, retry-after) at once instead
//   of queueing work that would time out anyway, so HAProxy's checks move
//   traffic to the other edges.
// CSRF: the API authenticates by bearer token only and never reads a cookie,
// so a cross-site request carries no credential; a page that ever signs in
// with a cookie (a dashboard) must register @fastify/csrf-protection.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import fp from 'fastify-plugin';
import type { Config } from '../../platform/config.js';
import { sendProblem } from '../../platform/http/problems.js';

const SAMPLE_INTERVAL_MS = 250;

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
      },
    });
    await app.register(cors, {
      origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'idempotency-key',
        'if-none-match',
        'traceparent',
        'x-request-id',
      ],
      exposedHeaders: [
        'etag',
        'retry-after',
        'traceparent',
        'x-request-id',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ],
      maxAge: 600,
    });
    if (config.maxEventLoopDelayMs > 0) {
      await app.register(underPressure, {
        maxEventLoopDelay: config.maxEventLoopDelayMs,
        sampleInterval: SAMPLE_INTERVAL_MS,
        // Fastify stops at a hook that has sent the reply.
        pressureHandler: (_request, reply, type, value) => {
          sendProblem(
            reply,
            'UNAVAILABLE',
            `this edge is overloaded (${type} ${Math.round(Number(value))}); retry shortly`,
          );
        },
      });
    }
  },
  { name: 'evently-security' },
);
