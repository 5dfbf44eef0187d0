// A whole system in a throw-away folder on free ports, with the admin signed
// in: what the integration tests and the benchmark each stand up. Its servers
// are always the embedded ones, whatever URLs the caller's environment holds,
// and stop() removes every trace of it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withOverrides, type Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { startSystem, type System } from './system.js';

export interface ThrowawaySystem {
  readonly system: System;
  readonly url: string;
  /** For reading the database after the fact; nothing should write through it. */
  readonly db: pg.Pool;
  readonly adminToken: string;
  stop(): Promise<void>;
}

async function signIn(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || !body.token) throw new Error(`admin sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

export async function startThrowawaySystem(config: Config, label: string, log: Logger): Promise<ThrowawaySystem> {
  const dataDir = await mkdtemp(join(tmpdir(), `evently-${label}-`));
  const removeFolder = () => rm(dataDir, { recursive: true, force: true });
  let system: System;
  try {
    system = await startSystem(
      withOverrides(config, {
        dataDir,
        httpPort: 0,
        adminPort: 0,
        natsUrl: undefined,
        redisUrl: undefined,
        databaseUrl: undefined,
        databaseReadUrl: undefined,
        smtpUrl: undefined,
        jwtSecret: undefined,
        ticketSecret: undefined,
        identityKey: undefined,
        identityPreviousKey: undefined,
        natsEdgePassword: undefined,
        natsActorsPassword: undefined,
        natsSupervisorPassword: undefined,
      }),
      log,
      { persistent: false },
    );
  } catch (err) {
    await removeFolder();
    throw err;
  }
  const db = new pg.Pool({ connectionString: system.config.databaseUrl, max: 4 });
  const stop = async () => {
    await db.end().catch(() => undefined);
    await system.stop();
    await removeFolder();
  };
  try {
    const adminToken = await signIn(system.url, config.adminEmail, config.adminPassword);
    return { system, url: system.url, db, adminToken, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
