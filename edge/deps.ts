// What the edge's route plugins are given: their own module, so that the
// routes import it and server.ts imports the routes, with no circle between.
import type { Broker } from '../platform/broker.js';
import type { EventCache } from './plugins/event-cache.js';

export interface EdgeDeps {
  broker: Broker;
  shards: number;
  /** Background pools configured off (EVENTLY_DISABLED_POOLS): readiness does not wait for them. */
  disabledPools: readonly string[];
  events: EventCache;
}
