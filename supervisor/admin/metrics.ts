// Prometheus metrics of one supervisor: its pools' threads, restarts, work in
// flight and the shards it holds. Read from the pools when scraped, so they
// cannot drift from what GET /pools says. A registry per supervisor (not the
// global one): tests run several in one process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActorPool } from '../actor-pool.js';

export interface SupervisorMetrics {
  readonly contentType: string;
  text(): Promise<string>;
}

export function supervisorMetrics(pools: () => readonly ActorPool[], shards: number): SupervisorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Against the sum of evently_shards_owned over every supervisor: a shard nobody serves.
  new Gauge({ name: 'evently_shards_total', help: 'Event shards configured (EVENTLY_SHARDS)', registers: [registry] }).set(shards);
  const perPool = (name: string, help: string, read: (pool: ActorPool) => Promise<number | null> | number | null) =>
    new Gauge({
      name, help, labelNames: ['pool'], registers: [registry],
      async collect() {
        this.reset();
        for (const pool of pools()) {
          const value = await read(pool);
          if (value !== null) this.set({ pool: pool.kind }, value);
        }
      },
    });
  perPool('evently_pool_threads', 'Actor threads running in the pool', (p) => p.status().threads);
  perPool('evently_pool_busy', 'Requests in flight on the pool\'s threads', async (p) => (await p.report()).busy);
  perPool('evently_shards_owned', 'Shards this supervisor holds that the pool serves', (p) => (p.sharded ? p.placement().size : null));
  // Follows the pools' own count, and starts at 0 so the first restart is an increase.
  const counted = new Map<string, number>();
  new Counter({
    name: 'evently_actor_restarts_total', help: 'Actor threads replaced after they died', labelNames: ['pool'], registers: [registry],
    collect() {
      for (const pool of pools()) {
        const restarts = pool.status().restarts;
        this.inc({ pool: pool.kind }, restarts - (counted.get(pool.kind) ?? 0));
        counted.set(pool.kind, restarts);
      }
    },
  });
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
