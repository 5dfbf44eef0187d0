// Shared start-up of a single-role process (edge or supervisor) for
// deployments where the servers already run (docker-compose, other hosts):
// read config once, refuse bad values with a clear message, stop cleanly on
// SIGINT/SIGTERM.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';

export async function runProcess(
  role: string,
  start: (config: Config, log: Logger) => Promise<{ stop(): Promise<void> }>,
  { embedded = false } = {},
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
    for (const [name, value] of [
      ['NATS_URL', config.natsUrl],
      ['DATABASE_URL', config.databaseUrl],
      ['REDIS_URL', config.redisUrl],
    ]) {
      if (!value && !embedded)
        throw new ConfigError(
          `${name} is required for the ${role} process (npm start runs the embedded servers instead)`,
        );
    }
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, { process: role });
  // Handlers go in before start-up: a signal that arrives while the process is
  // still starting must not kill it with the default action and leave what it
  // already started (threads, leases, servers) behind. It stops once started.
  let starting: Promise<{ stop(): Promise<void> } | null>;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // A start-up in progress finishes first: killing it mid-way (an initdb, say) could leave a
    // data folder that does not start again.
    const running = await starting;
    // The last word: whatever hangs, the process is gone soon after the stop timeout, and
    // exiting kills the embedded servers it started (ops/stack/processes.ts), never orphans them.
    setTimeout(() => {
      log.error({ stopTimeoutMs: config.stopTimeoutMs }, 'stop took too long; exiting now');
      process.exit(1);
    }, config.stopTimeoutMs + 1000).unref();
    await running?.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  starting = start(config, log).catch((err: unknown) => {
    log.fatal({ err }, 'start-up failed');
    // The same words plainly, for the person at the terminal (a missing package names its apt-get command).
    console.error(`evently: start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
    return null;
  });
  await starting;
}
