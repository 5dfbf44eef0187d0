// Flash sales under faults, on a whole Evently of its own on loopback: one
// sale per fault, each on a fresh event, with retrying clients. Once a
// quarter of the seats are sold the fault strikes (a server restarted on the
// same port and data, connections dropped, a thread killed); the sale goes on
// to sell out, and the bookings table is compared with the clients' 201s.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { shardOf } from '../../protocol/index.js';
import { loadConfig, withOverrides, type Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { createEvent, registerUsers } from '../bench/api.js';
import { bookingStream, emptyStreamResult, type StreamResult } from '../load/booking-stream.js';
import { startSystem, type System } from '../system.js';
import { startChaosServers, type ChaosServers } from './servers.js';
import { faultTable, tallySale, type FaultRow } from './tally.js';

export interface SaleOptions {
  users: number;
  /** Bookings each user makes (one seat each), one after another; also the per-user limit. */
  perUser: number;
  capacity: number;
  /** Pause between a user's bookings: sets how long the sale lasts. */
  pauseMs: number;
  log: Logger;
}

interface Scene {
  system: System;
  servers: ChaosServers;
  eventId: string;
}

/** Each fault: what it does to a running system mid-sale; its result, if any, is noted in the table. */
export const FAULTS = {
  'kill-thread': {
    what: 'kill the inventory thread serving the event',
    act: async ({ system, eventId }: Scene) => {
      system.supervisor.pools.inventory.crashShardOwner(shardOf(eventId, system.config.shards));
    },
  },
  'nats-restart': { what: 'restart nats-server', act: ({ servers }: Scene) => servers.restart('nats') },
  'redis-restart': {
    what: 'restart redis-server (booking locks gone)',
    act: ({ servers }: Scene) => servers.restart('redis'),
  },
  'pg-drop': {
    what: 'drop every Postgres connection',
    act: async ({ system }: Scene) => {
      const killer = new pg.Client({ connectionString: system.config.databaseUrl });
      await killer.connect();
      try {
        const {
          rows: [r],
        } = await killer.query<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`);
        return `${r?.n ?? 0} dropped`;
      } finally {
        await killer.end();
      }
    },
  },
  'pg-restart': { what: 'restart PostgreSQL', act: ({ servers }: Scene) => servers.restart('postgres') },
} satisfies Record<string, { what: string; act: (scene: Scene) => Promise<unknown> }>;
export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/** Starts the servers and the system in a temporary folder, runs `work`, and stops and removes everything. */
async function withChaosSystem<T>(
  log: Logger,
  work: (system: System, servers: ChaosServers) => Promise<T>,
): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'evently-chaos-'));
  try {
    // The embedded Postgres runs as an unprivileged user that must reach its folder.
    await chmod(dataDir, 0o755);
    const servers = await startChaosServers(dataDir, (msg) => log.info(msg));
    try {
      const config = chaosConfig(servers, dataDir, log.level, {});
      const system = await startSystem(config, log, { persistent: false });
      try {
        return await work(system, servers);
      } finally {
        await system.stop();
      }
    } finally {
      await servers.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function adminToken(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`admin sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/**
 * A sale on a fresh event; `strike` runs once a quarter of the seats are sold
 * (or the sale is over, if it sells faster than that) and returns a note.
 */
export async function saleWithFault(
  o: SaleOptions & { url: string; token: string; label: string },
  strike: (eventId: string) => Promise<unknown>,
): Promise<{ eventId: string; sale: StreamResult; window: { startedAt: number; endedAt: number }; note: unknown }> {
  const eventId = await createEvent(o.url, o.token, {
    name: `Chaos ${o.label}`,
    capacity: o.capacity,
    maxTicketsPerUser: o.perUser,
  });
  const users = (await registerUsers(o.url, o.users)).map((token) => ({ token }));
  const live = emptyStreamResult();
  const progress = { done: false };
  const sale = bookingStream({
    url: o.url,
    eventId,
    users,
    perUser: o.perUser,
    pauseMs: o.pauseMs,
    label: `chaos-${o.label}`,
    result: live,
  }).finally(() => {
    progress.done = true;
  });
  while (!progress.done && live.created.length < o.capacity / 4) await sleep(20);
  const startedAt = Date.now();
  const note = await strike(eventId);
  const window = { startedAt, endedAt: Date.now() };
  o.log.info({ fault: o.label, tookMs: window.endedAt - startedAt }, 'chaos: fault injected');
  return { eventId, sale: await sale, window, note };
}

/** One sale per fault on one system; a row each. */
export async function runFaultSales(o: SaleOptions & { faults: readonly FaultName[] }): Promise<FaultRow[]> {
  return withChaosSystem(o.log, async (system, servers) => {
    const token = await adminToken(system.url, system.config.adminEmail, system.config.adminPassword);
    const rows: FaultRow[] = [];
    for (const name of o.faults) {
      const { what, act } = FAULTS[name];
      const fencesBefore = system.supervisor.leases.fences;
      const { eventId, sale, window, note } = await saleWithFault({ ...o, url: system.url, token, label: name }, (id) =>
        act({ system, servers, eventId: id }),
      );
      // A lone, connected supervisor has no reason to fence; one that did left its shards unserved for a moment.
      const fenced = [`shard lease fences during the sale: ${system.supervisor.leases.fences - fencesBefore}`];
      // A fresh pool: the system's own may be reconnecting after the fault.
      const db = new pg.Pool({ connectionString: system.config.databaseUrl, max: 2 });
      try {
        const label = typeof note === 'string' ? `${what} (${note})` : what;
        rows.push(await tallySale(db, eventId, label, sale, window, fenced));
      } finally {
        await db.end();
      }
      o.log.info(`chaos: ${name} done\n${faultTable(rows.slice(-1))}`);
    }
    return rows;
  });
}

/**
 * The configuration of an Evently under chaos: one loopback client plays the whole crowd, so per-IP
 * limits and load shedding would refuse it, not the faults; the background pools are off (their work
 * waits in the stream), since on two busy cores they only slow the boot.
 */
export function chaosConfig(
  servers: ChaosServers,
  dataDir: string,
  logLevel: Config['logLevel'],
  extra: Partial<Config>,
): Config {
  return withOverrides(loadConfig({}), {
    rateLimits: false,
    maxEventLoopDelayMs: 0,
    identityNice: 0,
    disabledPools: ['mailer', 'analytics', 'pricing'],
    logLevel,
    kdfCost: 10,
    dataDir,
    httpPort: 0,
    adminPort: 0,
    lockTtlMs: 3000,
    brokerTimeoutMs: 2000,
    natsUrl: servers.natsUrl,
    natsEdgePassword: servers.natsPasswords.edge,
    natsActorsPassword: servers.natsPasswords.actors,
    natsSupervisorPassword: servers.natsPasswords.supervisor,
    redisUrl: servers.redisUrl,
    databaseUrl: servers.databaseUrl,
    jwtSecret: randomBytes(24).toString('hex'),
    ...extra,
  });
}
