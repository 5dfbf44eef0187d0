// `npm start`: the embedded default in the foreground. Ctrl-C stops
// everything it started, in order: edge, actors, servers.
import { ConfigError, loadConfig } from '../actors/runtime/config.js';
import { createLogger } from '../actors/runtime/logger.js';
import { startSystem } from './system.js';

if (process.argv.includes('--help')) {
  console.log(`usage: npm start   (node dist/ops/start.js)

Starts nats-server, redis-server and PostgreSQL in EVENTLY_DATA_DIR (unless NATS_URL,
REDIS_URL, DATABASE_URL are set), migrates, and runs the supervisor and one edge.
Settings come from the environment; see the README's configuration table.`);
  process.exit(0);
}

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.logLevel, { process: 'evently' });
try {
  const system = await startSystem(config, log, { persistent: true });
  log.info({ url: system.url, docs: `${system.url}/docs`, admin: config.adminEmail }, 'Evently is up; Ctrl-C stops it');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await system.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  log.fatal({ err }, 'start-up failed');
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}
