// `npm start`: the embedded default in the foreground. Ctrl-C stops
// everything it started, in order: edge, actors, servers.
import { runProcess } from '../platform/process-main.js';
import { startSystem } from './system.js';

if (process.argv.includes('--help')) {
  console.log(`usage: npm start   (node dist/ops/start.js)

Starts nats-server, redis-server and PostgreSQL in EVENTLY_DATA_DIR (unless NATS_URL,
REDIS_URL, DATABASE_URL are set), migrates, and runs the supervisor and one edge.
Settings come from the environment; see docs/configuration.md.`);
  process.exit(0);
}

// ops/run.mjs passes when `npm start` began, so the time to ready counts the build check too.
const launchedAt =
  Number(process.argv.find((a) => a.startsWith('--launched-at='))?.split('=')[1]) ||
  Date.now() - process.uptime() * 1000;

await runProcess(
  'evently',
  async (config, log) => {
    const system = await startSystem(config, log, { persistent: true });
    const readyInMs = Date.now() - launchedAt;
    log.info(
      { url: system.url, docs: `${system.url}/docs`, admin: config.adminEmail, readyInMs },
      'Evently is up; Ctrl-C stops it',
    );
    console.error(`evently: ready in ${(readyInMs / 1000).toFixed(1)} s at ${system.url}`);
    return system;
  },
  { embedded: true },
);
