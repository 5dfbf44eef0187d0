// One system under test: its own throw-away data folder, its own embedded
// servers on free ports, and an admin token ready. `withSystem` guarantees the
// servers stop and the folder goes even when a scenario throws, so a failed
// benchmark never leaves a Postgres behind holding the machine's cores.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, withOverrides, type Config } from '../../actors/runtime/config.js';
import { startSystem, type System } from '../system.js';
import { login } from './api.js';

export interface SystemUnderTest {
  readonly system: System;
  readonly url: string;
  readonly adminToken: string;
  /** A pool for the invariant checks; the benchmark never writes through it. */
  readonly db: pg.Pool;
}

export interface SystemOptions {
  batching: boolean;
  /** undefined = the configured default (the realistic cost of a password hash). */
  kdfCost?: number;
}

// Systems running right now, so a Ctrl-C can stop them before the process goes.
const running = new Map<System, string>();

export async function stopRunningSystems(): Promise<void> {
  const outcomes = await Promise.allSettled([...running].map(async ([system, dataDir]) => {
    await system.stop();
    await rm(dataDir, { recursive: true, force: true });
  }));
  for (const o of outcomes) if (o.status === 'rejected') console.error('  stop failed:', o.reason);
}

export async function withSystem<T>(label: string, options: SystemOptions, use: (sut: SystemUnderTest) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), `evently-bench-${label}-`));
  // The embedded Postgres runs as an unprivileged user that must reach its folder.
  await chmod(dataDir, 0o755);
  const base = loadConfig();
  const overrides: Partial<Record<keyof Config, unknown>> = {
    dataDir, httpPort: 0, logLevel: 'warn', batching: options.batching,
    // The bench starts its own servers: URLs from the caller's environment would measure something else.
    natsUrl: undefined, redisUrl: undefined, databaseUrl: undefined, jwtSecret: undefined,
    // A throw-away admin password: the dev default would only add a warning to the output.
    adminPassword: randomBytes(12).toString('base64url'),
  };
  if (options.kdfCost !== undefined) overrides.kdfCost = options.kdfCost;
  const config = withOverrides(base, overrides);
  // Logs to stderr: stdout carries the report, which people paste into the README.
  const log = pino({ level: config.logLevel, base: { process: `bench-${label}` }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
  let system: System | undefined;
  let db: pg.Pool | undefined;
  try {
    const started = Date.now();
    system = await startSystem(config, log, { persistent: false });
    running.set(system, dataDir);
    db = new pg.Pool({ connectionString: system.config.databaseUrl, max: 2 });
    const adminToken = await login(system.url, config.adminEmail, config.adminPassword);
    console.error(`  [${label}] system up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${system.url} (batching ${options.batching ? 'on' : 'off'}, kdfCost ${system.config.kdfCost})`);
    return await use({ system, url: system.url, adminToken, db });
  } finally {
    await db?.end().catch(() => undefined);
    if (system) {
      running.delete(system);
      await system.stop().catch((err: unknown) => console.error(`  [${label}] stop failed:`, err));
    }
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
