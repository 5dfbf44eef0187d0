// The whole system on one machine: the embedded servers (unless their URLs
// are given), the supervisor with its actor pools, and one edge. `npm start`
// and the integration tests both come up through startSystem, so the tests
// exercise exactly what a person runs.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { publicUrlOf, withOverrides, type Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { startEdge, type Edge } from '../edge/server.js';
import { startSupervisor, type Supervisor } from '../supervisor/supervisor.js';
import { startStack, type MailSink, type Stack } from './stack/index.js';
import { secretIn } from './stack/secrets.js';

export interface System {
  readonly config: Config;
  readonly edge: Edge;
  readonly supervisor: Supervisor;
  readonly url: string;
  /** The local SMTP sink, when SMTP_URL was not given. */
  readonly mailSink?: MailSink;
  stop(): Promise<void>;
}

export interface SystemOptions {
  /** Keep server data between runs (npm start) or throw it away (tests). */
  persistent: boolean;
}

/** The embedded default keeps each generated secret in the data dir so tokens, keys and links survive restarts. */
async function generatedSecret(config: Config, given: string | undefined, name: string): Promise<string> {
  if (given) return given;
  const file = join(config.dataDir, name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    await writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

/** A port free right now (the edge binds it moments later); port 0 alone would leave links unknowable. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The settings of the servers the stack started: their URLs and the credentials it generated. */
export function stackSettings(stack: Stack): Partial<Record<keyof Config, unknown>> {
  return {
    natsUrl: stack.natsUrl,
    natsEdgePassword: stack.natsPasswords?.edge,
    natsActorsPassword: stack.natsPasswords?.actors,
    natsSupervisorPassword: stack.natsPasswords?.supervisor,
    redisUrl: stack.redisUrl,
    databaseUrl: stack.databaseUrl,
    smtpUrl: stack.smtpUrl,
  };
}

/** True if `work` settles within `ms`; it goes on either way. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startSystem(base: Config, log: Logger, { persistent }: SystemOptions): Promise<System> {
  await mkdir(base.dataDir, { recursive: true });
  // The embedded Postgres runs as an unprivileged user that must reach its folder.
  await chmod(base.dataDir, 0o755);
  const needs = { nats: !base.natsUrl, redis: !base.redisUrl, postgres: !base.databaseUrl, mail: !base.smtpUrl };
  let stack: Stack | undefined;
  if (needs.nats || needs.redis || needs.postgres || needs.mail) {
    stack = await startStack({ dataDir: base.dataDir, persistent, services: needs, log: (msg) => log.info(msg) });
  }
  const stopStack = async () => {
    await stack?.stop();
  };
  try {
    const httpPort = base.httpPort === 0 ? await freePort(base.httpHost) : base.httpPort;
    const started = stack ? stackSettings(stack) : {};
    // What the caller set wins; what it left unset comes from the servers the stack started.
    const fromStack = Object.fromEntries(
      Object.entries(started).filter(([key, value]) => value !== undefined && base[key as keyof Config] === undefined),
    );
    const config = withOverrides(base, {
      ...fromStack,
      jwtSecret: await generatedSecret(base, base.jwtSecret, 'jwt-secret'),
      ticketSecret: await generatedSecret(base, base.ticketSecret, 'ticket-secret'),
      identityKey: base.identityKey ?? (await secretIn(base.dataDir, 'identity-key')),
      // Links in mails must reach this edge, so its port is fixed before the mailer starts.
      publicUrl: publicUrlOf(withOverrides(base, { httpPort })),
    });
    const supervisor = await startSupervisor(config, log);
    let edge: Edge;
    try {
      // The system's config keeps port 0, so a test's second edge from it binds a free port too.
      edge = await startEdge(withOverrides(config, { httpPort }), log);
    } catch (err) {
      await supervisor.stop();
      throw err;
    }
    return {
      config,
      edge,
      supervisor,
      url: edge.url,
      mailSink: stack?.mailSink,
      async stop() {
        // Bounded: after a sale the actors may still be working through a backlog, and a stop
        // that waits for it outlasts the SIGKILL of whoever asked. What is not finished is
        // redelivered at the next start (unacknowledged messages, the outbox).
        const graceful = (async () => {
          await edge.stop();
          await supervisor.stop();
        })();
        const graceMs = config.stopTimeoutMs / 2;
        if (!(await settlesWithin(graceful, graceMs))) {
          log.warn(
            { graceMs },
            'the edge and actors did not stop in time; stopping the servers now, their work resumes at the next start',
          );
        }
        await stopStack();
      },
    };
  } catch (err) {
    await stopStack();
    throw err;
  }
}
