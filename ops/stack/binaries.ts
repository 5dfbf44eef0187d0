import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { StackError, logTail } from './errors.js';
import { runToCompletion } from './processes.js';

export interface PgBinaries {
  initdb: string;
  postgres: string;
}

export interface Binaries {
  natsServer?: string;
  redisServer?: string;
  pg?: PgBinaries;
}

export interface Wanted {
  nats: boolean;
  redis: boolean;
  postgres: boolean;
}

const execFileAsync = promisify(execFile);

// Debian installs nats-server into /usr/sbin, which an ordinary user's PATH often lacks.
const extraDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...extraDirs];
  return dirs
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

function pgIn(bindir: string): PgBinaries | undefined {
  const bins = { initdb: join(bindir, 'initdb'), postgres: join(bindir, 'postgres') };
  return isExecutable(bins.initdb) && isExecutable(bins.postgres) ? bins : undefined;
}

/**
 * Debian keeps the server binaries off PATH, one folder per major version; several versions can
 * be installed side by side during an upgrade, and the newest is the one to use.
 */
async function findPostgres(): Promise<PgBinaries | undefined> {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // Not a Debian layout; try the other places.
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const found = pgIn(join(root, version, 'bin'));
    if (found) return found;
  }
  try {
    const { stdout } = await execFileAsync('pg_config', ['--bindir']);
    const found = pgIn(stdout.trim());
    if (found) return found;
  } catch {
    // No pg_config (it ships in a dev package on some systems).
  }
  const initdb = onPath('initdb');
  return initdb ? pgIn(dirname(initdb)) : undefined;
}

async function find(wanted: Wanted): Promise<Binaries> {
  return {
    natsServer: wanted.nats ? onPath('nats-server') : undefined,
    redisServer: wanted.redis ? onPath('redis-server') : undefined,
    pg: wanted.postgres ? await findPostgres() : undefined,
  };
}

function missingPackages(wanted: Wanted, found: Binaries): string[] {
  const missing: string[] = [];
  if (wanted.nats && !found.natsServer) missing.push('nats-server');
  if (wanted.redis && !found.redisServer) missing.push('redis-server');
  if (wanted.postgres && !found.pg) missing.push('postgresql');
  return missing;
}

// One `apt-get update` per process is enough, even if several stacks install at once.
let aptUpdated: Promise<void> | undefined;

async function aptGet(args: string[], logFile: string): Promise<void> {
  const exit = await runToCompletion({
    name: 'apt-get',
    command: 'apt-get',
    args,
    logFile,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (exit.code !== 0) {
    throw new StackError(
      `apt-get ${args.join(' ')} failed (exit ${exit.code ?? exit.signal}).\n` +
        `  Last lines of ${logFile}:\n${logTail(logFile)}`,
    );
  }
}

async function install(packages: string[], logFile: string, log: (msg: string) => void): Promise<void> {
  const command = `sudo apt-get install -y ${packages.join(' ')}`;
  const missing = `Missing server software (${packages.join(', ')}).`;
  if (process.getuid?.() !== 0) {
    throw new StackError(`${missing} Install it with:\n  ${command}`);
  }
  if (!onPath('apt-get')) {
    throw new StackError(
      `${missing} There is no apt-get here: install ${packages.join(', ')} with this ` +
        `system's package manager (on Debian/Ubuntu: ${command}).`,
    );
  }
  log(`installing ${packages.join(', ')} with apt-get (output in ${logFile})`);
  try {
    aptUpdated ??= aptGet(['update'], logFile);
    await aptUpdated;
    await aptGet(['install', '-y', ...packages], logFile);
  } catch (err) {
    aptUpdated = undefined;
    const why = err instanceof Error ? err.message : String(err);
    throw new StackError(`${missing} Installing it failed: ${why}\n  To retry:\n  ${command}`);
  }
}

/** Finds the binaries each wanted server needs, installing them with apt-get when we may. */
export async function resolveBinaries(
  wanted: Wanted,
  aptLogFile: string,
  log: (msg: string) => void,
): Promise<Binaries> {
  let found = await find(wanted);
  const packages = missingPackages(wanted, found);
  if (packages.length === 0) return found;
  await install(packages, aptLogFile, log);
  found = await find(wanted);
  const still = missingPackages(wanted, found);
  if (still.length > 0) {
    throw new StackError(
      `apt-get reported success but ${still.join(', ')} is still not found ` +
        `(looked on PATH, ${extraDirs.join(', ')} and /usr/lib/postgresql/*/bin).`,
    );
  }
  return found;
}

/** One more server program (haproxy, for the load-balancer test and script), found or installed like the others. */
export async function resolveTool(
  binary: string,
  debianPackage: string,
  aptLogFile: string,
  log: (msg: string) => void,
): Promise<string> {
  const found = onPath(binary);
  if (found) return found;
  await install([debianPackage], aptLogFile, log);
  const installed = onPath(binary);
  if (!installed)
    throw new StackError(
      `apt-get reported success but ${binary} is still not found on PATH or ${extraDirs.join(', ')}.`,
    );
  return installed;
}
