import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { StackError } from './errors.js';

export interface SpawnSpec {
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr both go here, appended, so a failure can quote the tail. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as another user; only honoured by the OS when we are root. */
  user?: { uid: number; gid: number };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the OS has reaped the process. */
  readonly exited: Promise<Exit>;
  hasExited(): boolean;
  /** Polite signal, bounded wait, then SIGKILL to the whole process group. Safe to call twice. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void>;
}

/** How long a server gets to shut down cleanly before it is killed. */
export const STOP_TIMEOUT_MS = 10_000;

/** A server that answered its readiness probe. */
export interface StartedServer {
  readonly url: string;
  readonly process: ServerProcess;
  /** Graceful, bounded, idempotent. */
  stop(): Promise<void>;
}

// Every child still running, so nothing outlives this process even when it dies abruptly.
const running = new Map<number, ChildProcess>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const pid of running.keys()) killGroup(pid, 'SIGKILL');
}

// Children lead their own process groups (detached), so this also reaches anything a server
// forked. Postgres' backends leave the group (setsid) but quit when their postmaster dies.
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone: exactly what we wanted.
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous, which SIGKILL is; there is no time for a graceful stop.
  process.on('exit', killAllNow);
  // A signal kills Node without running 'exit' handlers. When nobody else handles the signal we
  // clean up and re-raise it, so the default "die by signal" behaviour is kept. When someone
  // else does (the CLI), they own the shutdown and will stop the servers gracefully.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killAllNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Starts a long-running server in its own process group (so a Ctrl-C in the terminal reaches
 * only us, and we decide the shutdown order), logging to a file rather than the terminal.
 */
export async function spawnServer(spec: SpawnSpec): Promise<ServerProcess> {
  const proc = await spawnTracked(spec);
  // A test that forgets stop() should still let Node exit; the 'exit' hook then kills the child.
  proc.child.unref();
  return proc.server;
}

/** Runs a one-shot command (initdb, apt-get) to completion, tracked like a server meanwhile. */
export async function runToCompletion(spec: SpawnSpec): Promise<Exit> {
  // Not unref'd: awaiting a promise alone would not keep Node alive until the command ends.
  const proc = await spawnTracked(spec);
  return proc.server.exited;
}

async function spawnTracked(spec: SpawnSpec): Promise<{ child: ChildProcess; server: ServerProcess }> {
  installExitHooks();
  const logFd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', logFd, logFd],
      detached: true,
      ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(logFd);
  }

  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ code, signal });
    });
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await spawned;
  } catch (err) {
    throw new StackError(`could not run ${spec.command} for ${spec.name}: ${String(err)}`, {
      cause: err,
    });
  }

  const pid = child.pid as number;
  // It may already have exited and been removed, in which case it must stay out.
  if (child.exitCode === null && child.signalCode === null) running.set(pid, child);

  let stopping: Promise<void> | undefined;
  const hasExited = (): boolean => !running.has(pid);
  const server: ServerProcess = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    hasExited,
    stop(signal, timeoutMs) {
      stopping ??= (async () => {
        if (hasExited()) return;
        // A polite signal goes to the server alone, which shuts its helpers down in order; a
        // kill goes to the whole group, as nothing in it will get the chance to.
        if (signal === 'SIGKILL') killGroup(pid, signal);
        else child.kill(signal);
        if (await exitsWithin(exited, timeoutMs)) return;
        killGroup(pid, 'SIGKILL');
        await exited;
      })();
      return stopping;
    },
  };
  return { child, server };
}

async function exitsWithin(exited: Promise<Exit>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([exited.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
