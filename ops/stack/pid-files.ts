import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StackError } from './errors.js';

/**
 * The command of a live process, from /proc/PID/stat ("PID (comm) STATE ..."). A zombie counts
 * as gone: it is dead, merely not yet reaped, which in a container whose PID 1 is not a real
 * init can take a while.
 */
function liveCommandOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may itself contain ") ", so the state is after the last one.
  const close = stat.lastIndexOf(')');
  if (stat.slice(close + 2, close + 3) === 'Z') return undefined;
  return stat.slice(stat.indexOf('(') + 1, close);
}

const LEFTOVER_STOP_MS = 10_000;
const OWNER_FILE = 'owner.pid';

/**
 * Marks the data dir as this process's: a second run on a folder whose owner still lives is an
 * error naming it (stopLeftover must never stop a live run's servers), while a folder whose owner
 * is gone (SIGKILL, OOM) is taken over, orphaned servers and all. Returns the release.
 */
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, OWNER_FILE);
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && liveCommandOf(pid) === liveCommandOf(process.pid)) {
      throw new StackError(
        `another run (PID ${pid}) is using ${dataDir}. Stop it first:\n  kill -INT ${pid}\nor start with another data dir.`,
      );
    }
  }
  await writeFile(file, `${process.pid}\n`);
  return async () => {
    if (existsSync(file) && Number(readFileSync(file, 'utf8').trim()) === process.pid) await rm(file, { force: true });
  };
}

async function goneWithin(pid: number, command: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (liveCommandOf(pid) === command) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/**
 * A killed parent (SIGKILL, OOM) leaves its servers running, detached, on this data dir. Starting
 * a second server on the same files would corrupt them (Redis' append-only file, the JetStream
 * store), and refusing to start leaves a data folder nobody can start again without hunting PIDs.
 * The pid file is inside our own data dir and the process runs the same command, so it is the
 * earlier run's server: it is stopped as its own stop would (the polite signal, then SIGKILL if it
 * does not go) and this start goes on. A pid file left by a server that is gone is stale and
 * removed: postgres would otherwise refuse to start when, as happens quickly in a container, its
 * PID now belongs to an unrelated process.
 */
export async function stopLeftover(
  /** The server's executable name, as /proc/PID/comm shows it: "postgres", "redis-server". */
  command: string,
  pidFile: string,
  /** The signal its graceful stop uses (postgres: SIGINT, a fast shutdown). */
  signal: NodeJS.Signals,
  log: (msg: string) => void,
): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]?.trim());
  const valid = Number.isInteger(pid) && pid > 0;
  if (valid && liveCommandOf(pid) === command) {
    log(`${command} (PID ${pid}) from an earlier run is still running on ${dirname(pidFile)}; stopping it (${signal})`);
    const send = (sig: NodeJS.Signals) => {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone meanwhile */
      }
    };
    send(signal);
    if (!(await goneWithin(pid, command, LEFTOVER_STOP_MS))) {
      log(`${command} (PID ${pid}) did not stop within ${LEFTOVER_STOP_MS} ms; killing it`);
      send('SIGKILL');
      if (!(await goneWithin(pid, command, LEFTOVER_STOP_MS))) {
        throw new StackError(
          `${command} (PID ${pid}) from an earlier run on ${dirname(pidFile)} survived SIGKILL; stop it by hand.`,
        );
      }
    }
  } else {
    log(`removing stale ${pidFile} (PID ${valid ? pid : '?'} is not a running ${command})`);
  }
  await rm(pidFile, { force: true });
}
