import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/**
 * A killed parent (SIGKILL, OOM) leaves its servers running, detached. Starting a second server
 * on the same files would corrupt them (Redis' append-only file, the JetStream store), so a
 * previous server still alive on this data dir is an error that names it. A pid file left by a
 * server that is gone is stale and removed: postgres would otherwise refuse to start when, as
 * happens quickly in a container, its PID now belongs to an unrelated process.
 */
export async function assertNotRunning(
  /** The server's executable name, as /proc/PID/comm shows it: "postgres", "redis-server". */
  command: string,
  pidFile: string,
  log: (msg: string) => void,
): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]?.trim());
  const valid = Number.isInteger(pid) && pid > 0;
  if (valid && liveCommandOf(pid) === command) {
    throw new StackError(
      `${command} (PID ${pid}) from an earlier run is still running on ${dirname(pidFile)}. ` +
        `Stop it first:\n  kill -INT ${pid}\nor start the stack with another data dir.`,
    );
  }
  log(`removing stale ${pidFile} (PID ${valid ? pid : '?'} is not a running ${command})`);
  await rm(pidFile, { force: true });
}
