// Metrics of one actor thread. Every thread registers on its own copy of
// prom-client's default registry (module state is per thread); the
// supervisor asks each thread for a snapshot over its control port when
// Prometheus scrapes, and sums them per pool (see supervisor/admin/metrics.ts).
// Actor modules add their own series the same way: at module level, on the
// default registry.
import { Gauge, Histogram, register, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { ActorKind } from '../protocol/index.js';

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Handler time per operation, from request taken to reply ready (so batching waits count). */
export const handlerSeconds = new Histogram({
  name: 'evently_actor_handler_duration_seconds',
  help: 'Actor handler latency, by pool, operation and outcome (ok or the error code)',
  labelNames: ['pool', 'operation', 'outcome'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

let queue: { pool: ActorKind; inFlight: () => number } | null = null;

new Gauge({
  name: 'evently_actor_queue_depth',
  help: 'Requests an actor pool has taken and not yet answered (waiting for a lock, a batch or the database)',
  labelNames: ['pool'],
  // Read when scraped, from the same count the pool report uses, so it cannot drift.
  collect() {
    if (queue) this.set({ pool: queue.pool }, queue.inFlight());
  },
});

/** One actor per thread: its served requests are the thread's queue. */
export function trackQueueDepth(pool: ActorKind, inFlight: () => number): void {
  queue = { pool, inFlight };
}

export const threadMetrics = (): Promise<MetricsSnapshot> => register.getMetricsAsJSON();
