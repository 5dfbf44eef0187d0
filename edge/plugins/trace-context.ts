// W3C trace context at the edge: each request is a span, under the caller's
// trace when it sent a valid `traceparent`, else the root of a new trace. The
// trace id is bound to the request's logger when Fastify creates it (so even
// "incoming request" carries it), handed to the actors in the broker
// headers, and written to the audit log, beside the request id.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { childSpan, parseTraceparent, type TraceContext } from '../../protocol/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    readonly trace: TraceContext;
  }
}

const spans = new WeakMap<IncomingMessage, TraceContext>();

function traceOf(raw: IncomingMessage): TraceContext {
  let span = spans.get(raw);
  if (!span) {
    const given = raw.headers.traceparent;
    span = childSpan(parseTraceparent(typeof given === 'string' ? given : undefined));
    spans.set(raw, span);
  }
  return span;
}

/** Fastify's per-request logger, with the trace id bound beside the request id. */
export const childLoggerWithTrace: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  opts,
  raw,
) => logger.child({ ...bindings, traceId: traceOf(raw).traceId }, opts);

export function installTraceContext(app: FastifyInstance): void {
  app.decorateRequest('trace', {
    getter() {
      return traceOf(this.raw);
    },
  });
}
