// What every scheduled job gets: the scheduler's own connections, opened once
// per supervisor and shared by its jobs.
import type { Agenda } from 'agenda';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { Broker } from '../../platform/broker.js';

export interface JobContext {
  readonly config: Config;
  readonly log: Logger;
  readonly db: pg.Pool;
  readonly redis: Redis;
  /** Requests to actors (the waitlist's holds.expire), with the edge's transport-error mapping. */
  readonly broker: Broker;
  readonly agenda: Agenda;
}
