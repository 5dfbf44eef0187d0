// A flash sale under faults, on a whole Evently of its own on loopback:
// while retrying clients buy, an inventory thread is killed, nats-server and
// redis-server are restarted (same ports; JetStream keeps its store), and
// every Postgres connection of the app is dropped. Then the database is read:
// every 201 must be stored, nothing beyond them, no oversell, no user over
// the limit, every client answered.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { readSeatLedger, type SeatLedger } from '../../actors/inventory/ledger.js';
import { shardOf } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { loadConfig, withOverrides } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { createEvent, registerUsers } from '../bench/api.js';
import { bookingStream, type StreamResult } from '../load/booking-stream.js';
import { resolveBinaries } from '../stack/binaries.js';
import { startStack } from '../stack/index.js';
import { startNats, type NatsStart } from '../stack/nats.js';
import { freePorts } from '../stack/probes.js';
import type { StartedServer } from '../stack/processes.js';
import { startRedis, type RedisStart } from '../stack/redis.js';
import { startSystem } from '../system.js';

export interface ChaosOptions {
  users: number;
  /** Bookings each user makes (one seat each), one after another. */
  perUser: number;
  capacity: number;
  /** Pause between a user's bookings: sets how long the sale lasts. */
  pauseMs: number;
  /** Pause between faults. */
  faultEveryMs: number;
  log: Logger;
}

export interface Fault { name: string; atMs: number; tookMs: number }

export interface ChaosReport {
  faults: Fault[];
  sale: StreamResult;
  ledger: SeatLedger;
  checks: { what: string; ok: boolean; detail: string }[];
  ok: boolean;
}

const DROP_CONNECTIONS = `SELECT count(pg_terminate_backend(pid))::int AS dropped FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const dataDir = await mkdtemp(join(tmpdir(), 'evently-chaos-'));
  try {
    // The embedded Postgres runs as an unprivileged user that must reach its folder.
    await chmod(dataDir, 0o755);
    return await onFreshServers(o, dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function onFreshServers(o: ChaosOptions, dataDir: string): Promise<ChaosReport> {
  const say = (msg: string) => o.log.info(msg);
  const bins = await resolveBinaries({ nats: true, redis: true, postgres: false }, join(dataDir, 'apt.log'), say);
  const [natsPort, monitorPort, redisPort] = await freePorts(3);
  const passwords = { edge: randomBytes(24).toString('hex'), actors: randomBytes(24).toString('hex'), supervisor: randomBytes(24).toString('hex') };
  const natsStart: NatsStart = { binary: bins.natsServer!, dataDir, port: natsPort, monitorPort, log: say, passwords };
  const redisStart: RedisStart = { binary: bins.redisServer!, dataDir, port: redisPort, persistent: false, log: say, password: randomBytes(24).toString('hex') };
  const servers: { nats?: StartedServer; redis?: StartedServer } = {};
  const stack = await startStack({ dataDir, services: { nats: false, redis: false, postgres: true }, log: say });
  try {
    servers.nats = await startNats(natsStart);
    servers.redis = await startRedis(redisStart);
    // One loopback client plays the whole crowd: per-IP limits and load shedding would refuse it, not the faults.
    const config = withOverrides(loadConfig({}), {
      rateLimits: false, maxEventLoopDelayMs: 0,
      logLevel: o.log.level, kdfCost: 10, dataDir, httpPort: 0, adminPort: 0, lockTtlMs: 3000, brokerTimeoutMs: 2000,
      natsUrl: servers.nats.url, natsEdgePassword: passwords.edge, natsActorsPassword: passwords.actors, natsSupervisorPassword: passwords.supervisor,
      redisUrl: servers.redis.url, databaseUrl: stack.databaseUrl, jwtSecret: randomBytes(24).toString('hex'),
    });
    const system = await startSystem(config, o.log, { persistent: false });
    try {
      return await saleUnderFaults(o, system, servers, natsStart, redisStart);
    } finally {
      await system.stop();
    }
  } finally {
    await servers.redis?.stop();
    await servers.nats?.stop();
    await stack.stop();
  }
}

async function saleUnderFaults(
  o: ChaosOptions, system: Awaited<ReturnType<typeof startSystem>>,
  servers: { nats?: StartedServer; redis?: StartedServer }, natsStart: NatsStart, redisStart: RedisStart,
): Promise<ChaosReport> {
  const { config } = system;
  const admin = await (await fetch(`${system.url}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: config.adminEmail, password: config.adminPassword }),
  })).json() as { token: string };
  const eventId = await createEvent(system.url, admin.token, { name: 'Chaos sale', capacity: o.capacity, maxTicketsPerUser: o.perUser });
  const users = (await registerUsers(system.url, o.users)).map((token) => ({ token }));

  const began = Date.now();
  const sale = bookingStream({ url: system.url, eventId, users, perUser: o.perUser, pauseMs: o.pauseMs, label: 'chaos' });
  const faults: Fault[] = [];
  const fault = async (name: string, act: () => Promise<unknown>) => {
    await sleep(o.faultEveryMs);
    const at = Date.now();
    await act();
    const injected = { name, atMs: at - began, tookMs: Date.now() - at };
    faults.push(injected);
    o.log.info({ fault: name }, 'chaos: fault injected');
    return injected;
  };
  await fault('kill the inventory thread serving the event', async () => {
    system.supervisor.pools.inventory.crashShardOwner(shardOf(eventId, config.shards));
  });
  await fault('restart nats-server', async () => {
    await servers.nats!.stop();
    servers.nats = await startNats(natsStart);
  });
  await fault('restart redis-server', async () => {
    await servers.redis!.stop();
    servers.redis = await startRedis(redisStart);
  });
  let dropped = 0;
  const dropAll = await fault('drop every Postgres connection (pg_terminate_backend)', async () => {
    const killer = new pg.Client({ connectionString: config.databaseUrl });
    await killer.connect();
    dropped = expectRow((await killer.query<{ dropped: number }>(DROP_CONNECTIONS)).rows[0], 'dropped connections').dropped;
    await killer.end();
  });
  dropAll.name += ` (${dropped} dropped)`;
  const result = await sale;

  const db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  try {
    const ledger = await readSeatLedger(db, eventId);
    const { rows: [counted] } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE status = 'confirmed' AND id = ANY($1::uuid[])`, [result.created]);
    const found = expectRow(counted, 'stored bookings');
    const checks = [
      { what: 'every client got a final answer', ok: result.unanswered === 0, detail: `${result.unanswered} unanswered, ${result.retried} retried attempts` },
      { what: 'every 201 is a stored booking (nothing lost)', ok: found.n === result.created.length, detail: `${found.n} of ${result.created.length} found` },
      { what: 'nothing confirmed beyond the 201s (no double booking on retry)', ok: ledger.confirmed === result.created.length, detail: `${ledger.confirmed} confirmed seats` },
      { what: 'no oversell; event row, bookings and per-user counters agree', ok: ledger.ok, detail: `capacity ${ledger.capacity}, available ${ledger.available}, sold ${ledger.sold}` },
      { what: 'nobody over the per-user limit', ok: ledger.maxPerUser <= o.perUser, detail: `most per user ${ledger.maxPerUser} (limit ${o.perUser})` },
      { what: 'refusals are only SOLD_OUT', ok: [...result.refused.keys()].every((k) => k === '409 SOLD_OUT'), detail: JSON.stringify([...result.refused]) },
    ];
    return { faults, sale: result, ledger, checks, ok: checks.every((c) => c.ok) };
  } finally {
    await db.end();
  }
}
