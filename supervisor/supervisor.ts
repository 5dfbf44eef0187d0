// The supervisor brings the schema up to date, makes sure the first admin
// exists, takes its share of the shard leases and runs one actor pool per
// kind; sharded pools serve exactly the shards it holds. Operators reach it
// through the admin endpoint and its NATS service; its Agenda scheduler runs
// the timed jobs (supervisor/scheduler). Stopping is graceful: the scheduler
// stops first, the leases are handed back, then every actor stops taking work
// and finishes what it has in flight.
import { Redis } from 'ioredis';
import { connect } from 'nats';
import pg from 'pg';
import { ensureAdmin } from '../actors/identity/public.js';
import { lockOwner, releaseLocksOf } from '../actors/inventory/public.js';
import { byKind, type ActorKind } from '../protocol/index.js';
import type { Config } from '../platform/config.js';
import { settings } from '../platform/config.js';
import { ensureDomainStream } from '../platform/domain-stream.js';
import type { Logger } from '../platform/logger.js';
import { ActorPool } from './actor-pool.js';
import { supervisorMetrics } from './admin/metrics.js';
import { deadLetterAdmin } from './admin/dead-letters.js';
import { startAdmin } from './admin/server.js';
import { startAdminService } from './admin/service.js';
import { consumerLag } from './admin/system-gauges.js';
import { SupervisorControl } from './control.js';
import { migrate } from './migrate.js';
import { startScheduler, type Scheduler } from './scheduler/scheduler.js';
import { ShardLeases } from './shard-leases.js';
import { natsOptions } from '../platform/nats-connect.js';
import { newDeadlineBuffer } from '../platform/lease-deadlines.js';

export interface Supervisor {
  readonly pools: Readonly<Record<ActorKind, ActorPool>>;
  readonly control: SupervisorControl;
  readonly leases: ShardLeases;
  readonly scheduler: Scheduler;
  readonly adminUrl: string;
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
  const nc = await connect(natsOptions(config, 'supervisor', { name: 'evently-supervisor' }));
  try {
    await ensureDomainStream(await nc.jetstreamManager());
  } finally {
    await nc.close();
  }
}

/**
 * Each kind's pool: how many threads, and whether they split the shards. Keyed by every kind of the
 * protocol's catalogue, so a new kind does not compile until it has a pool.
 */
const POOL_SIZES: Record<ActorKind, (c: Config) => { threads: number; sharded: boolean }> = {
  inventory: (c) => ({ threads: c.inventoryThreads, sharded: true }),
  identity: (c) => ({ threads: c.identityThreads, sharded: false }),
  waitlist: (c) => ({ threads: c.waitlistThreads, sharded: true }),
  pricing: (c) => ({ threads: c.pricingThreads, sharded: true }),
  analytics: (c) => ({ threads: c.analyticsThreads, sharded: true }),
  // One thread is plenty: it writes whole batches, one statement each.
  audit: () => ({ threads: 1, sharded: false }),
  // Sharded: each thread reads the domain events of its shards; every thread sends what is due.
  mailer: (c) => ({ threads: c.mailerThreads, sharded: true }),
  // Sharded like inventory: one thread owns an event's door, scans answer a waiting gate.
  checkin: (c) => ({ threads: c.checkinThreads, sharded: true }),
  // Like the mailer: each thread plans from its shards' domain events; every thread sends.
  webhooks: (c) => ({ threads: c.webhookThreads, sharded: true }),
  // Sharded like inventory: a room's queue lives on the thread that owns its event's shard.
  waitroom: (c) => ({ threads: c.waitroomThreads, sharded: true }),
};

export async function startSupervisor(config: Config, log: Logger): Promise<Supervisor> {
  if (!config.databaseUrl || !config.redisUrl || !config.natsUrl)
    throw new Error('DATABASE_URL, REDIS_URL and NATS_URL must be set');
  await migrate(config.databaseUrl, log);
  await ensureFirstAdmin(config, log);
  await ensureStream(config);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => log.warn({ err }, 'redis error'));
  const freeLocks = async (threadId: number) => {
    const freed = await releaseLocksOf(redis, lockOwner(process.pid, threadId));
    if (freed > 0) log.info({ thread: threadId, freed }, 'released booking locks of a dead inventory thread');
  };
  // Until when each shard may be written: the lease keeper writes, every sharded actor thread checks.
  const leaseDeadlines = newDeadlineBuffer(config.shards);
  const pools = byKind((kind) => {
    const { threads, sharded } = POOL_SIZES[kind](config);
    return new ActorPool(
      kind,
      threads,
      sharded ? config.shards : 0,
      config,
      log,
      kind === 'inventory' ? freeLocks : undefined,
      leaseDeadlines,
    );
  });
  // Pools switched off by configuration (EVENTLY_DISABLED_POOLS) are never started: their work waits in the stream.
  const all = (): ActorPool[] => Object.values(pools).filter((p) => !config.disabledPools.includes(p.kind));
  const sharded = (): ActorPool[] => all().filter((p) => p.sharded);
  const nc = await connect(
    natsOptions(config, 'supervisor', { name: 'evently-supervisor', noAsyncTraces: true, maxReconnectAttempts: -1 }),
  );
  let adminUrl: string | null = null;
  let scheduler: Scheduler;
  const leases = new ShardLeases(nc, {
    config,
    leaseDeadlines,
    adminUrl: () => adminUrl,
    placement: (shard) =>
      Object.fromEntries(
        sharded().flatMap((p) => {
          const at = p.placement().get(shard);
          return at ? [[p.kind, at]] : [];
        }),
      ),
    // Threads stop at once, not drained: draining needs the NATS this supervisor may have lost.
    onFence: (lost) => {
      for (const pool of sharded()) pool.fence(lost);
    },
    onChange: (held) => {
      for (const pool of sharded()) {
        pool
          .assignShards(held)
          .catch((err: unknown) => log.error({ err, actor: pool.kind }, 're-plan after a lease change failed'));
      }
    },
    log: log.child({ leases: true }),
  });
  const control = new SupervisorControl(all, leases, log, async () => consumerLag(await nc.jetstreamManager()));
  const closers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const close of closers.splice(0).reverse())
      await close().catch((err: unknown) => log.warn({ err }, 'supervisor stop step failed'));
  };
  closers.push(
    async () => {
      redis.disconnect();
    },
    () => nc.drain(),
  );
  try {
    const held = await leases.start();
    closers.push(
      () => Promise.all(all().map((p) => p.stop())),
      () => leases.releaseAll(),
    );
    await Promise.all(sharded().map((p) => p.assignShards(held)));
    await Promise.all(all().map((p) => p.start()));
    // Scrapes and the dead-letter routes: a pool of their own, so a slow metrics query never queues behind actor work.
    const db = new pg.Pool({
      connectionString: config.databaseUrl,
      max: 2,
      application_name: 'evently-supervisor-admin',
    });
    db.on('error', (err) => log.warn({ err }, 'metrics postgres client error'));
    closers.push(() => db.end());
    const metrics = supervisorMetrics({
      pools: all,
      shards: config.shards,
      fences: () => leases.fences,
      db,
      jsm: () => nc.jetstreamManager(),
      log,
    });
    const deadLetters = deadLetterAdmin(db, () => nc.jetstream());
    const admin = await startAdmin(config, { control, metrics, deadLetters }, nc, log);
    adminUrl = admin.url;
    closers.push(() => admin.stop());
    const service = await startAdminService(nc, control, leases.me, log);
    closers.push(() => service.stop());
    // After the pools, so the hold sweep finds waitlist threads to ask.
    scheduler = await startScheduler(config, log, leases.me.id);
    closers.push(() => scheduler.stop());
  } catch (err) {
    await stop();
    throw err;
  }
  log.info(
    {
      id: leases.me.id,
      shards: leases.shards(),
      inventoryThreads: config.inventoryThreads,
      batching: config.batching,
      admin: adminUrl,
    },
    'supervisor running',
  );
  return {
    pools,
    control,
    leases,
    scheduler,
    adminUrl: adminUrl,
    async stop() {
      await stop();
      log.info('supervisor stopped');
    },
  };
}
