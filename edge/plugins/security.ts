// Browser-facing protections and load shedding:
// - Security headers as helmet makes them. The API answers JSON, so its
//   content policy allows nothing; a route with `config.csp` (the dashboard,
//   the hold pages) has its own policy; the OpenAPI UI under /docs sets its
//   own (swagger-ui's staticCSP) for its scripts and styles.
// - CORS as @fastify/cors does it: only the configured origins may call the
//   API from a browser; with none configured no CORS header is sent at all.
// - @fastify/under-pressure: while the event loop lags past the configured
//   delay, answer 503 UNAVAILABLE (problem+json, retry-after) at once instead
//   of queueing work that would time out anyway, so HAProxy's checks move
//   traffic to the other edges.
// Neither header set depends on the request beyond its origin, so both are
// worked out once (helmet's own middleware, run at start against a recording
// response) and applied by one hook: @fastify/helmet rebuilt helmet's
// middleware for every request, and with @fastify/cors that was ~15% of the
// edge's time at flash-sale rates. security.unit.test.ts proves the headers
// equal what the two plugins send.
// CSRF: the API authenticates by bearer token only and never reads a cookie,
// so a cross-site request carries no credential; a page that ever signs in
// with a cookie (a dashboard) must register @fastify/csrf-protection.
import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import type { Config } from '../../platform/config.js';
import { sendProblem } from '../../platform/http/problems.js';
import { ADMISSION_HEADER } from '../../protocol/index.js';

const SAMPLE_INTERVAL_MS = 250;

type Csp = Exclude<HelmetOptions['contentSecurityPolicy'], boolean | undefined>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's content security policy, in place of the API's (which allows nothing). */
    csp?: Csp;
  }
}

/** The API's helmet options. */
export const API_HELMET: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
};

/** The CORS settings, in @fastify/cors's terms. */
export function corsSettings(config: Pick<Config, 'corsOrigins'>) {
  return {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : (false as const),
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      // A browser that books a protected event from another origin sends its admission token.
      ADMISSION_HEADER,
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
  };
}

interface HeaderSet {
  set: [name: string, value: string][];
  removed: string[];
}

/** What helmet's middleware does to a response with these options, recorded once. */
export function helmetHeaders(options: HelmetOptions): HeaderSet {
  const out: HeaderSet = { set: [], removed: [] };
  const directives = typeof options.contentSecurityPolicy === 'object' ? options.contentSecurityPolicy.directives : {};
  for (const [name, value] of Object.entries(directives ?? {})) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'function'))
      throw new Error(`CSP directive ${name} depends on the request; the headers are worked out once`);
  }
  const res = {
    setHeader: (name: string, value: unknown) => out.set.push([name, String(value)]),
    removeHeader: (name: string) => out.removed.push(name),
  };
  // No directive reads the request (checked above), so any request will do.
  helmet(options)(new IncomingMessage(new Socket()), res as unknown as ServerResponse, (err) => {
    if (err) throw err instanceof Error ? err : new Error('helmet refused these options');
  });
  return out;
}

/**
 * One onRequest hook for what @fastify/helmet and @fastify/cors did with
 * three: the same headers, set the same way (helmet's on the raw response,
 * CORS's on the reply), the same preflight answers.
 */
export function installSecurityHeaders(app: FastifyInstance, config: Pick<Config, 'corsOrigins'>): void {
  const api = helmetHeaders(API_HELMET);
  const byCsp = new Map<Csp, HeaderSet>();
  const cors = corsSettings(config);
  const origins = cors.origin === false ? undefined : new Set(cors.origin);
  // An allow-list naming '*' allows everyone: one fixed header, no Vary (as @fastify/cors).
  const anyOrigin = origins?.has('*') ?? false;
  const expose = cors.exposedHeaders.join(', ');
  const methods = cors.methods.join(', ');
  const allowed = cors.allowedHeaders.join(', ');
  const maxAge = String(cors.maxAge);

  const corsHeaders = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (!anyOrigin) {
      const vary = reply.getHeader('vary');
      if (vary === undefined) reply.header('vary', 'Origin');
      else if (
        vary !== '*' &&
        !String(vary)
          .toLowerCase()
          .split(/\s*,\s*/)
          .includes('origin')
      )
        reply.header('vary', `${String(vary)}, Origin`);
    }
    const origin = request.headers.origin;
    if (anyOrigin) reply.header('access-control-allow-origin', '*');
    else if (origin !== undefined && origins?.has(origin)) reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', expose);
    if (request.raw.method !== 'OPTIONS') return false;
    // A preflight is answered here, before authentication (the browser sends no credentials with it).
    if (!origin || !request.headers['access-control-request-method']) {
      void reply.status(400).type('text/plain').send('Invalid Preflight Request');
      return true;
    }
    void reply
      .header('access-control-allow-methods', methods)
      .header('access-control-allow-headers', allowed)
      .header('access-control-max-age', maxAge)
      .code(204)
      .header('Content-Length', '0')
      .send();
    return true;
  };

  app.addHook('onRequest', (request, reply, done) => {
    const csp = request.routeOptions.config.csp;
    let headers = api;
    if (csp !== undefined) {
      headers = byCsp.get(csp) ?? helmetHeaders({ ...API_HELMET, contentSecurityPolicy: csp });
      byCsp.set(csp, headers);
    }
    const raw = reply.raw;
    for (const [name, value] of headers.set) raw.setHeader(name, value);
    for (const name of headers.removed) raw.removeHeader(name);
    if (origins !== undefined && corsHeaders(request, reply)) return;
    done();
  });
  // Lets Fastify route OPTIONS at all; a preflight was answered by the hook, anything else is not found.
  app.options('*', { schema: { hide: true } }, (_request, reply) => {
    reply.callNotFound();
  });
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    installSecurityHeaders(app, config);
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
