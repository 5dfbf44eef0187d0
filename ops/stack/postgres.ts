import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { PgBinaries } from './binaries.js';
import { StackError, logTail } from './errors.js';
import { handOver, postgresRunAs, type RunAs } from './pg-user.js';
import { stopLeftover } from './pid-files.js';
import { waitReady } from './probes.js';
import { STOP_TIMEOUT_MS, runToCompletion, spawnServer, type StartedServer } from './processes.js';

export interface PgStart {
  bins: PgBinaries;
  dataDir: string;
  port: number;
  persistent: boolean;
  log: (msg: string) => void;
  /** The evently role's password: every connection, local or TCP, must give it (scram-sha-256). */
  password: string;
}

// Generous: waitReady gives up at once if the server dies, so only a hung one waits this long,
// while a loaded two-core machine can take most of a minute to bring one up.
const READY_TIMEOUT_MS = 120_000;
const USER = 'evently';
const DATABASE = 'evently';
// sun_path holds 108 bytes, including the terminating NUL.
const MAX_SOCKET_PATH = 107;

/**
 * C.UTF-8 sorts like C (fast, predictable) but still understands UTF-8 characters; systems
 * without that locale get plain C rather than a failure.
 */
async function initCluster(o: PgStart, pgDir: string, user: RunAs | undefined, logFile: string): Promise<void> {
  // initdb reads the password from a file (never the command line), which the server's user must read.
  const pwFile = join(o.dataDir, 'pg-initdb-password');
  await writeFile(pwFile, o.password, { mode: 0o600 });
  if (user) await chown(pwFile, user.uid, user.gid);
  try {
    for (const locale of ['C.UTF-8', 'C']) {
      o.log(`initdb ${pgDir} (locale ${locale})`);
      const exit = await runToCompletion({
        name: 'initdb',
        command: o.bins.initdb,
        args: [
          '-D',
          pgDir,
          '-U',
          USER,
          '--auth=scram-sha-256',
          `--pwfile=${pwFile}`,
          '-E',
          'UTF8',
          `--locale=${locale}`,
        ],
        logFile,
        cwd: pgDir,
        user,
      });
      if (exit.code === 0) return;
    }
  } finally {
    await rm(pwFile, { force: true });
  }
  throw new StackError(
    `initdb could not create a cluster in ${pgDir}.\n` + `  Last lines of ${logFile}:\n${logTail(logFile)}`,
  );
}

function postgresArgs(o: PgStart, pgDir: string, socketDir: string): string[] {
  // Durability is pointless for a throw-away test cluster and costs most of its write time.
  const speed = o.persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  return [
    '-D',
    pgDir,
    '-p',
    String(o.port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-k',
    socketDir,
    '-c',
    'max_connections=200',
    ...speed,
  ];
}

function client(port: number, database: string, password: string): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password,
    database,
    // A postmaster forking backends on a loaded two-core machine can take seconds to let one in.
    connectionTimeoutMillis: 30_000,
  });
}

async function answers(port: number, password: string): Promise<boolean> {
  const c = client(port, 'postgres', password);
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const c = client(port, 'postgres', password);
  await c.connect();
  try {
    const found = await c.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (found.rowCount === 0) await c.query(`create database ${DATABASE}`);
  } finally {
    await c.end();
  }
}

/**
 * Brings a cluster that trusted every local user (made before passwords were
 * required) in line: the role gets the password, pg_hba.conf asks for it, and
 * the server reloads. Runs while the server still trusts, once.
 */
async function requirePassword(o: PgStart, pgDir: string): Promise<void> {
  const hbaFile = join(pgDir, 'pg_hba.conf');
  const c = client(o.port, 'postgres', o.password);
  await c.connect();
  try {
    await c.query(`ALTER ROLE ${USER} PASSWORD ${c.escapeLiteral(o.password)}`);
    const hba = await readFile(hbaFile, 'utf8');
    await writeFile(hbaFile, hba.replace(/\btrust(\s*)$/gm, 'scram-sha-256$1'));
    await c.query('SELECT pg_reload_conf()');
  } finally {
    await c.end();
  }
  o.log('postgres: the existing cluster now requires a password (pg_hba.conf: scram-sha-256)');
}

/**
 * The server is started directly rather than through pg_ctl: we then own its PID, its output
 * goes to our log, and it dies with the rest of the stack.
 */
export async function startPostgres(o: PgStart): Promise<StartedServer> {
  const pgDir = join(o.dataDir, 'pg');
  const logFile = join(o.dataDir, 'postgres.log');
  const socketDir = join(o.dataDir, 'pg-socket');
  // Postgres insists on a data folder only its owner can read.
  await mkdir(pgDir, { recursive: true, mode: 0o700 });
  await mkdir(socketDir, { recursive: true });
  const user = await postgresRunAs();
  await handOver(user, [pgDir, socketDir]);
  // An empty socket setting means TCP only, better than refusing to start over a long path.
  const socketFits = join(socketDir, `.s.PGSQL.${o.port}`).length <= MAX_SOCKET_PATH;
  if (!socketFits) o.log('data dir too long for a Unix socket path: postgres listens on TCP only');

  if (!existsSync(join(pgDir, 'PG_VERSION'))) await initCluster(o, pgDir, user, logFile);
  // A cluster made before passwords were required trusts every local user: it gets one now.
  const trusting = /\btrust\s*$/m.test(await readFile(join(pgDir, 'pg_hba.conf'), 'utf8'));
  const pidFile = join(pgDir, 'postmaster.pid');
  await stopLeftover('postgres', pidFile, 'SIGINT', o.log);

  const proc = await spawnServer({
    name: 'postgres',
    command: o.bins.postgres,
    args: postgresArgs(o, pgDir, socketFits ? socketDir : ''),
    logFile,
    cwd: pgDir,
    user,
  });
  try {
    await waitReady(proc, () => answers(o.port, o.password), READY_TIMEOUT_MS);
    if (trusting) await requirePassword(o, pgDir);
    await ensureDatabase(o.port, o.password);
  } catch (err) {
    await proc.stop('SIGKILL', STOP_TIMEOUT_MS);
    throw err;
  }
  return {
    url: `postgres://${USER}:${encodeURIComponent(o.password)}@127.0.0.1:${o.port}/${DATABASE}`,
    process: proc,
    // SIGINT is postgres' "fast" shutdown: open transactions are rolled back, nothing committed
    // is lost, and it does not wait for clients (a pool left open) to disconnect.
    stop: () => proc.stop('SIGINT', STOP_TIMEOUT_MS),
  };
}
