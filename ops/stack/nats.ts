import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BROKER_ROLES, brokerPermissions, type BrokerRole } from '../../protocol/index.js';
import { stopLeftover } from './pid-files.js';
import { httpOk, waitReady } from './probes.js';
import { STOP_TIMEOUT_MS, spawnServer, type StartedServer } from './processes.js';

export interface NatsStart {
  binary: string;
  dataDir: string;
  port: number;
  /** HTTP monitoring port, used only for the readiness probe. */
  monitorPort: number;
  log: (msg: string) => void;
  /** Password of each broker user (protocol/broker-permissions.ts says what each may do). */
  passwords: Record<BrokerRole, string>;
}

// Generous: waitReady gives up at once if the server dies, so only a hung one waits this long,
// while a loaded two-core machine can take most of a minute to bring one up.
const READY_TIMEOUT_MS = 120_000;

// Paths are quoted as JSON strings, which the NATS config parser reads the same way.
// The config format reads JSON, so each user and its permissions are written as JSON.
function authorization(passwords: Record<BrokerRole, string>): string[] {
  const users = BROKER_ROLES.map(
    (role) => `    ${JSON.stringify({ user: role, password: passwords[role], permissions: brokerPermissions[role] })}`,
  );
  return ['authorization {', '  users = [', ...users, '  ]', '}'];
}

function natsConfig(o: NatsStart, dir: string, pidFile: string): string {
  return [
    '# Written by ops/stack on every start; edits are overwritten.',
    `listen: "127.0.0.1:${o.port}"`,
    `http: "127.0.0.1:${o.monitorPort}"`,
    `pid_file: ${JSON.stringify(pidFile)}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(join(dir, 'js'))}`,
    '}',
    ...authorization(o.passwords),
    '',
  ].join('\n');
}

/**
 * nats-server is configured through a file rather than flags: the monitoring port and the
 * JetStream store are simpler to read there, and other settings (subject mappings) can only be
 * set in a file.
 */
export async function startNats(o: NatsStart): Promise<StartedServer> {
  const dir = join(o.dataDir, 'nats');
  await mkdir(join(dir, 'js'), { recursive: true });
  const pidFile = join(dir, 'nats.pid');
  await stopLeftover('nats-server', pidFile, 'SIGINT', o.log);
  const confFile = join(dir, 'nats.conf');
  // It holds the passwords: only its owner reads it.
  await writeFile(confFile, natsConfig(o, dir, pidFile), { mode: 0o600 });

  const proc = await spawnServer({
    name: 'nats-server',
    command: o.binary,
    args: ['-c', confFile],
    logFile: join(o.dataDir, 'nats.log'),
    cwd: dir,
  });
  // js-enabled-only: "ready" must include JetStream, which the services rely on from the start.
  const healthz = `http://127.0.0.1:${o.monitorPort}/healthz?js-enabled-only=true`;
  try {
    await waitReady(proc, () => httpOk(healthz), READY_TIMEOUT_MS);
  } catch (err) {
    await proc.stop('SIGKILL', STOP_TIMEOUT_MS);
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${o.port}`,
    process: proc,
    // SIGINT: nats-server's clean shutdown, closing the JetStream store properly. It leaves its
    // pid file behind, which the next start would otherwise report as stale every time.
    stop: async () => {
      await proc.stop('SIGINT', STOP_TIMEOUT_MS);
      await rm(pidFile, { force: true });
    },
  };
}
