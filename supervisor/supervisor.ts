// The supervisor brings the schema up to date, makes sure the first admin
// exists, and runs one actor pool per kind. Stopping is graceful: every
// actor stops taking work and finishes what it has in flight.
import { Redis } from 'ioredis';
import { connect } from 'nats';
import pg from 'pg';
import { ensureAdmin } from '../actors/identity/accounts.js';
import { lockOwner, releaseLocksOf } from '../actors/inventory/booking-lock.js';
import type { ActorKind } from '../actors/protocol/index.js';
import type { Config } from '../actors/runtime/config.js';
import { settings } from '../actors/runtime/config.js';
import { ensureDomainStream } from '../actors/runtime/domain-stream.js';
import type { Logger } from '../actors/runtime/logger.js';
import { ActorPool } from './actor-pool.js';
import { migrate } from './migrate.js';

export interface Supervisor {
  readonly pools: Readonly<Record<ActorKind, ActorPool>>;
  stop(): Promise<void>;
}

async function ensureFirstAdmin(config: Config, log: Logger): Promise<void> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    const result = await ensureAdmin(pool, config.adminEmail, config.adminPassword, config.kdfCost);
    if (result === 'created') log.info({ email: config.adminEmail }, 'first admin created');
    if (config.adminPassword === settings.adminPassword.default) {
      log.warn('EVENTLY_ADMIN_PASSWORD is the development default; set it outside development');
    }
  } finally {
    await pool.end();
  }
}

/** The domain event stream exists before any actor publishes to or consumes it. */
async function ensureStream(config: Config): Promise<void> {
  const nc = await connect({ servers: config.natsUrl, name: 'evently-supervisor' });
  try {
    await ensureDomainStream(await nc.jetstreamManager());
  } finally {
    await nc.close();
  }
}

export async function startSupervisor(config: Config, log: Logger): Promise<Supervisor> {
  if (!config.databaseUrl || !config.redisUrl || !config.natsUrl) throw new Error('DATABASE_URL, REDIS_URL and NATS_URL must be set');
  await migrate(config.databaseUrl, log);
  await ensureFirstAdmin(config, log);
  await ensureStream(config);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => log.warn({ err }, 'redis error'));
  const freeLocks = async (threadId: number) => {
    const freed = await releaseLocksOf(redis, lockOwner(process.pid, threadId));
    if (freed > 0) log.info({ thread: threadId, freed }, 'released booking locks of a dead inventory thread');
  };
  const pools = {
    inventory: new ActorPool('inventory', config.inventoryThreads, config.shards, config, log, freeLocks),
    identity: new ActorPool('identity', config.identityThreads, 0, config, log),
    waitlist: new ActorPool('waitlist', config.waitlistThreads, config.shards, config, log),
    // One thread is plenty: it writes whole batches, one statement each.
    audit: new ActorPool('audit', 1, 0, config, log),
  };
  try {
    await Promise.all(Object.values(pools).map((p) => p.start()));
  } catch (err) {
    await Promise.allSettled(Object.values(pools).map((p) => p.stop()));
    redis.disconnect();
    throw err;
  }
  log.info({ shards: config.shards, inventoryThreads: config.inventoryThreads, batching: config.batching }, 'supervisor running');
  return {
    pools,
    async stop() {
      await Promise.all(Object.values(pools).map((p) => p.stop()));
      redis.disconnect();
      log.info('supervisor stopped');
    },
  };
}
