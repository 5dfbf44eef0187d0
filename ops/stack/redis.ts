import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopLeftover } from './pid-files.js';
import { redisPing, waitReady } from './probes.js';
import { STOP_TIMEOUT_MS, spawnServer, type StartedServer } from './processes.js';

export interface RedisStart {
  binary: string;
  dataDir: string;
  port: number;
  persistent: boolean;
  log: (msg: string) => void;
  /** Every client must AUTH with it (requirepass), kept in a config file only the owner reads, never on the command line. */
  password: string;
}

// Generous: waitReady gives up at once if the server dies, so only a hung one waits this long,
// while a loaded two-core machine can take most of a minute to bring one up.
const READY_TIMEOUT_MS = 120_000;

/**
 * Persistence: a developer's `npm start` keeps its data through restarts with the append-only
 * file alone (RDB snapshots would only duplicate it); tests keep nothing, which is faster and
 * leaves no files to clean up.
 */
function redisArgs(o: RedisStart, dir: string): string[] {
  const persistence = o.persistent ? ['--appendonly', 'yes', '--save', ''] : ['--save', '', '--appendonly', 'no'];
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--protected-mode',
    'yes',
    '--dir',
    dir,
    '--daemonize',
    'no',
    // Only for spotting a server left running by a killed run; Redis removes it on exit.
    '--pidfile',
    join(dir, 'redis.pid'),
    ...persistence,
  ];
}

export async function startRedis(o: RedisStart): Promise<StartedServer> {
  const dir = join(o.dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  await stopLeftover('redis-server', pidFile, 'SIGTERM', o.log);
  const confFile = join(dir, 'redis.conf');
  await writeFile(confFile, `# Written by ops/stack on every start.\nrequirepass ${o.password}\n`, { mode: 0o600 });
  const proc = await spawnServer({
    name: 'redis-server',
    command: o.binary,
    args: [confFile, ...redisArgs(o, dir)],
    logFile: join(o.dataDir, 'redis.log'),
    cwd: dir,
  });
  try {
    await waitReady(proc, () => redisPing(o.port, o.password), READY_TIMEOUT_MS);
  } catch (err) {
    await proc.stop('SIGKILL', STOP_TIMEOUT_MS);
    throw err;
  }
  return {
    url: `redis://:${encodeURIComponent(o.password)}@127.0.0.1:${o.port}`,
    process: proc,
    // SIGTERM: Redis' clean shutdown, which fsyncs the append-only file first.
    stop: () => proc.stop('SIGTERM', STOP_TIMEOUT_MS),
  };
}
