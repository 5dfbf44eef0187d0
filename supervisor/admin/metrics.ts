// Prometheus metrics of one supervisor. Four sources, merged per scrape:
// - its pools (threads, in flight, restarts, shards held), read from the
//   pools so they cannot drift from what GET /pools says;
// - every actor thread's own series (handler latency, queue depth, batch
//   sizes, bookings, offers, mail …), asked of each thread over its control
//   port and summed per pool;
// - the shared servers (seat invariant, consumer lag), see system-gauges.ts;
// - this process's main thread (scheduled jobs), prom-client's default registry.
// A registry per supervisor (not the global one): tests run several in one process.
import type { JetStreamManager } from 'nats';
import type { Pool } from 'pg';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Registry,
  collectDefaultMetrics,
  register as mainThread,
} from 'prom-client';
import type { Logger } from '../../platform/logger.js';
import type { ActorPool } from '../actor-pool.js';
import { systemGauges } from './system-gauges.js';

export interface SupervisorMetrics {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface MetricSources {
  pools: () => readonly ActorPool[];
  shards: number;
  /** Shards this supervisor stopped serving at once because their leases were not renewed in time. */
  fences: () => number;
  db: Pool;
  jsm: () => Promise<JetStreamManager>;
  log: Logger;
}

export function supervisorMetrics({ pools, shards, fences, db, jsm, log }: MetricSources): SupervisorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Against the sum of evently_shards_owned over every supervisor: a shard nobody serves.
  new Gauge({
    name: 'evently_shards_total',
    help: 'Event shards configured (EVENTLY_SHARDS)',
    registers: [registry],
  }).set(shards);
  const perPool = (name: string, help: string, read: (pool: ActorPool) => Promise<number | null> | number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const pool of pools()) {
          const value = await read(pool);
          if (value !== null) this.set({ pool: pool.kind }, value);
        }
      },
    });
  perPool('evently_pool_threads', 'Actor threads running in the pool', (p) => p.status().threads);
  perPool('evently_pool_busy', "Requests in flight on the pool's threads", async (p) => (await p.report()).busy);
  perPool('evently_shards_owned', 'Shards this supervisor holds that the pool serves', (p) =>
    p.sharded ? p.placement().size : null,
  );
  // Follows the pools' own count, and starts at 0 so the first restart is an increase.
  const counted = new Map<string, number>();
  new Counter({
    name: 'evently_actor_restarts_total',
    help: 'Actor threads replaced after they died',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      for (const pool of pools()) {
        const restarts = pool.status().restarts;
        this.inc({ pool: pool.kind }, restarts - (counted.get(pool.kind) ?? 0));
        counted.set(pool.kind, restarts);
      }
    },
  });
  // A fence on a healthy supervisor is a false alarm that cost a burst of 503s: alert on any increase.
  let fencesCounted = 0;
  new Counter({
    name: 'evently_shard_fences_total',
    help: 'Shards this supervisor stopped serving at once: lease not renewed in time, or taken while served',
    registers: [registry],
    collect() {
      const now = fences();
      this.inc(now - fencesCounted);
      fencesCounted = now;
    },
  });
  systemGauges(registry, db, jsm, log);

  return {
    contentType: registry.contentType,
    async text() {
      // Counters of a thread that died restart from 0 in its replacement; Prometheus reads the drop as a reset.
      const threads = (await Promise.all(pools().map((p) => p.threadMetrics()))).flat();
      return Registry.merge([registry, AggregatorRegistry.aggregate(threads), mainThread]).metrics();
    },
  };
}
