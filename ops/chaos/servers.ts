// The servers of a chaos run, started here rather than by the stack so that
// each one can be restarted mid-sale on the same port and data: nats-server
// (JetStream keeps its store), redis-server, PostgreSQL. Loopback only.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { resolveBinaries } from '../stack/binaries.js';
import { startNats, type NatsStart } from '../stack/nats.js';
import { startPostgres, type PgStart } from '../stack/postgres.js';
import { freePorts } from '../stack/probes.js';
import type { StartedServer } from '../stack/processes.js';
import { startRedis, type RedisStart } from '../stack/redis.js';

export type ServerName = 'nats' | 'redis' | 'postgres';

export interface ChaosServers {
  natsUrl: string;
  redisUrl: string;
  databaseUrl: string;
  ports: Record<ServerName, number>;
  natsPasswords: NatsStart['passwords'];
  /** Process id of each server now (it changes with a restart). */
  pid(name: ServerName): number | undefined;
  /** Stops the server (its polite signal) and starts it again on the same port and data. */
  restart(name: ServerName): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosServers(dataDir: string, say: (msg: string) => void): Promise<ChaosServers> {
  const bins = await resolveBinaries({ nats: true, redis: true, postgres: true }, join(dataDir, 'apt.log'), say);
  const [natsPort, monitorPort, redisPort, pgPort] = await freePorts(4);
  const secret = () => randomBytes(24).toString('hex');
  // Drawn once: a restart keeps the URLs and passwords the clients hold.
  const natsPasswords = { edge: secret(), actors: secret(), supervisor: secret() };
  const nats: NatsStart = {
    binary: need(bins.natsServer, 'nats-server'),
    dataDir,
    port: natsPort,
    monitorPort,
    log: say,
    passwords: natsPasswords,
  };
  const redis: RedisStart = {
    binary: need(bins.redisServer, 'redis-server'),
    dataDir,
    port: redisPort,
    persistent: false,
    log: say,
    password: secret(),
  };
  const postgres: PgStart = {
    bins: need(bins.pg, 'PostgreSQL'),
    dataDir,
    port: pgPort,
    persistent: false,
    log: say,
    password: secret(),
  };
  const starts: Record<ServerName, () => Promise<StartedServer>> = {
    nats: () => startNats(nats),
    redis: () => startRedis(redis),
    postgres: () => startPostgres(postgres),
  };
  const running = new Map<ServerName, StartedServer>();
  const stop = async () => {
    for (const name of ['redis', 'nats', 'postgres'] as const) {
      await running.get(name)?.stop();
      running.delete(name);
    }
  };
  try {
    for (const name of ['postgres', 'nats', 'redis'] as const) running.set(name, await starts[name]());
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    natsUrl: need(running.get('nats'), 'nats').url,
    redisUrl: need(running.get('redis'), 'redis').url,
    databaseUrl: need(running.get('postgres'), 'postgres').url,
    ports: { nats: natsPort, redis: redisPort, postgres: pgPort },
    natsPasswords,
    pid: (name) => running.get(name)?.process.pid,
    async restart(name) {
      await running.get(name)?.stop();
      running.delete(name);
      running.set(name, await starts[name]());
    },
    stop,
  };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`chaos: ${what} is not available`);
  return value;
}
