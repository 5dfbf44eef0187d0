import { mkdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { resolveBinaries, type Wanted } from './binaries.js';
import { StackError } from './errors.js';
import { startNats } from './nats.js';
import { startPostgres } from './postgres.js';
import type { MailSink } from './mail-sink.js';
import { startMailSinkProcess } from './mail-sink-process.js';
import { claimDataDir } from './pid-files.js';
import { freePorts } from './probes.js';
import type { StartedServer } from './processes.js';
import { startRedis } from './redis.js';
import { secretIn } from './secrets.js';
import type { BrokerRole } from '../../protocol/index.js';

export { StackError } from './errors.js';
export { freePort } from './probes.js';
export type { MailSink } from './mail-sink.js';

export interface StackOptions {
  /** Absolute; each server keeps its data in a subfolder (nats/, redis/, pg/). */
  dataDir: string;
  /** 0 or undefined: a random free port on 127.0.0.1. */
  natsPort?: number;
  redisPort?: number;
  pgPort?: number;
  mailPort?: number;
  /**
   * true for `npm start`: Redis appends to disk and the Postgres cluster is reused.
   * false for tests: nothing durable, faster. The caller owns dataDir and removes it if it wants.
   */
  persistent?: boolean;
  /** Default all true; false = don't start that one. `mail` is the SMTP sink (mail-sink.ts), kept in <dataDir>/mail. */
  services?: { nats?: boolean; redis?: boolean; postgres?: boolean; mail?: boolean };
  /** Progress lines; default writes to stderr. */
  log?: (msg: string) => void;
}

export interface Stack {
  natsUrl?: string;
  /** Password of each NATS user, when NATS was started (config: EVENTLY_NATS_<ROLE>_PASSWORD). */
  natsPasswords?: Record<BrokerRole, string>;
  redisUrl?: string;
  databaseUrl?: string;
  smtpUrl?: string;
  /** The SMTP sink, when started: tests pause and resume it. */
  mailSink?: MailSink;
  /** Stops only what this stack started, by PID, gracefully then forcibly; idempotent. */
  stop(): Promise<void>;
}

const defaultLog = (msg: string): void => {
  process.stderr.write(`[stack] ${msg}\n`);
};

interface Ports {
  nats: number;
  /** NATS monitoring, only for our readiness probe: nobody else needs to know it. */
  monitor: number;
  redis: number;
  pg: number;
}

/** Requested ports where given, distinct free ones for the rest (a spare costs nothing). */
async function pickPorts(opts: StackOptions): Promise<Ports> {
  const [nats, monitor, redis, pg] = (await freePorts(4)) as [number, number, number, number];
  return {
    nats: opts.natsPort || nats,
    monitor,
    redis: opts.redisPort || redis,
    pg: opts.pgPort || pg,
  };
}

/** The URL without its password: logs must not carry credentials. */
function redacted(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Logs how long each server took, which is most of the stack's start-up time. */
async function timed(
  name: string,
  start: () => Promise<StartedServer>,
  log: (msg: string) => void,
): Promise<StartedServer> {
  const began = Date.now();
  const server = await start();
  log(`${name} ready at ${redacted(server.url)} in ${Date.now() - began} ms (PID ${server.process.pid})`);
  return server;
}

function failure(reasons: unknown[]): unknown {
  if (reasons.length === 1) return reasons[0];
  const messages = reasons.map((r) => (r instanceof Error ? r.message : String(r)));
  return new StackError(messages.join('\n\n'));
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? defaultLog;
  const { dataDir } = opts;
  if (!isAbsolute(dataDir)) {
    throw new StackError(`dataDir must be an absolute path, got "${dataDir}"`);
  }
  const persistent = opts.persistent ?? false;
  const wanted: Wanted = {
    nats: opts.services?.nats ?? true,
    redis: opts.services?.redis ?? true,
    postgres: opts.services?.postgres ?? true,
  };
  await mkdir(dataDir, { recursive: true });
  const release = await claimDataDir(dataDir);
  const bins = await resolveBinaries(wanted, join(dataDir, 'apt.log'), log).catch(async (err: unknown) => {
    await release();
    throw err;
  });
  const ports = await pickPorts(opts);

  // Listed in start order; stop() walks it backwards so the database goes first and the bus last.
  const starts: Array<[keyof Wanted, () => Promise<StartedServer>]> = [];
  const { natsServer, redisServer, pg } = bins;
  let natsPasswords: Record<BrokerRole, string> | undefined;
  if (natsServer) {
    const [edge, actors, supervisor] = await Promise.all([
      secretIn(dataDir, 'nats-edge'),
      secretIn(dataDir, 'nats-actors'),
      secretIn(dataDir, 'nats-supervisor'),
    ]);
    natsPasswords = { edge, actors, supervisor };
    const nats = {
      binary: natsServer,
      dataDir,
      port: ports.nats,
      monitorPort: ports.monitor,
      log,
      passwords: natsPasswords,
    };
    starts.push(['nats', () => startNats(nats)]);
  }
  if (redisServer) {
    const redis = {
      binary: redisServer,
      dataDir,
      port: ports.redis,
      persistent,
      log,
      password: await secretIn(dataDir, 'redis-password'),
    };
    starts.push(['redis', () => startRedis(redis)]);
  }
  if (pg) {
    const postgres = {
      bins: pg,
      dataDir,
      port: ports.pg,
      persistent,
      log,
      password: await secretIn(dataDir, 'postgres-password'),
    };
    starts.push(['postgres', () => startPostgres(postgres)]);
  }

  // The servers do not depend on each other, so they start side by side.
  const settled = await Promise.allSettled(starts.map(([name, start]) => timed(name, start, log)));
  const started = new Map<keyof Wanted, StartedServer>();
  const reasons: unknown[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') started.set(starts[i]![0], result.value);
    else reasons.push(result.reason);
  });

  // In this process, so it starts in moments and needs no binary; last, since nothing waits for it.
  let mailSink: MailSink | undefined;
  if (reasons.length === 0 && (opts.services?.mail ?? true)) {
    mailSink = await startMailSinkProcess({ dir: join(dataDir, 'mail'), port: opts.mailPort ?? 0, log }).catch(
      (err: unknown) => {
        reasons.push(err);
        return undefined;
      },
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await mailSink?.stop();
      for (const server of [...started.values()].reverse()) await server.stop();
      await release();
    })();
    return stopping;
  };
  if (reasons.length > 0) {
    await stop();
    throw failure(reasons);
  }
  return {
    natsUrl: started.get('nats')?.url,
    natsPasswords,
    redisUrl: started.get('redis')?.url,
    databaseUrl: started.get('postgres')?.url,
    smtpUrl: mailSink?.url,
    mailSink,
    stop,
  };
}
