// `npm start`: the embedded default in the foreground. Ctrl-C stops
// everything it started, in order: edge, actors, servers.
import { runProcess } from '../actors/runtime/process-main.js';
import { startSystem } from './system.js';

if (process.argv.includes('--help')) {
  console.log(`usage: npm start   (node dist/ops/start.js)

Starts nats-server, redis-server and PostgreSQL in EVENTLY_DATA_DIR (unless NATS_URL,
REDIS_URL, DATABASE_URL are set), migrates, and runs the supervisor and one edge.
Settings come from the environment; see the README's configuration table.`);
  process.exit(0);
}

await runProcess('evently', async (config, log) => {
  const system = await startSystem(config, log, { persistent: true });
  log.info({ url: system.url, docs: `${system.url}/docs`, admin: config.adminEmail }, 'Evently is up; Ctrl-C stops it');
  return system;
}, { embedded: true });
