// Prometheus metrics of one edge at GET /metrics: HTTP latency by route and
// status, NATS request latency by operation, WebSocket clients, plus this
// process's shared series on prom-client's default registry (event cache
// hits and misses). A registry per edge: tests run several in one process.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, Registry, collectDefaultMetrics, register as shared } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: EdgeMetrics;
  }
}

export interface EdgeMetrics {
  readonly registry: Registry;
  /** Called by the broker for every actor request it sends. */
  natsRequest(operation: string, outcome: string, seconds: number): void;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function edgeMetrics(): EdgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const nats = new Histogram({
    name: 'evently_nats_request_duration_seconds',
    help: 'Edge → actor NATS request-reply latency, by operation (subject without its shard) and outcome',
    labelNames: ['subject', 'outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  return { registry, natsRequest: (subject, outcome, seconds) => nats.observe({ subject, outcome }, seconds) };
}

export default fp<{ metrics: EdgeMetrics }>(async (app: FastifyInstance, { metrics }) => {
  const http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Edge HTTP request latency, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: SECONDS,
    registers: [metrics.registry],
  });
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would make a series per event.
    const route = request.routeOptions.url ?? 'unmatched';
    http.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { rateTier: 'none' }, schema: { hide: true } }, async (_request, reply) => {
    const text = await Registry.merge([metrics.registry, shared]).metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
});
