import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { StackError, startStack, type Stack } from './index.js';

const USAGE = `Usage: node dist/ops/stack/cli.js [--data-dir DIR] [--help]

Starts NATS (with JetStream), Redis and PostgreSQL on free ports of 127.0.0.1, keeping
their data in DIR between runs (default: .data/stack under the current folder), and an
SMTP sink keeping every mail as a .eml file in DIR/mail; prints

  NATS_URL=...
  REDIS_URL=...
  DATABASE_URL=...
  SMTP_URL=...

and stays in the foreground until Ctrl-C (SIGINT) or SIGTERM, then stops them cleanly.
A second Ctrl-C kills them at once.
`;

const log = (msg: string): void => {
  process.stderr.write(`[stack] ${msg}\n`);
};

function parse(): { dataDir: string } | 'help' {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return { dataDir: resolve(values['data-dir'] ?? '.data/stack') };
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return;
  }

  // Handlers go in before start-up, so a Ctrl-C while the servers come up still ends with a
  // clean stop rather than killed servers (a half-written cluster would not start next time).
  let stack: Stack | undefined;
  let stopRequested = false;
  // The servers do not keep Node alive (see processes.ts), so the foreground wait needs a handle.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const shutdown = async (running: Stack): Promise<void> => {
    log('stopping');
    await running.stop();
    clearInterval(keepAlive);
    log('stopped');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) {
      log(`${signal} again: killing the servers now`);
      process.exit(130);
    }
    stopRequested = true;
    if (stack) void shutdown(stack);
    else log(`${signal}: stopping as soon as start-up finishes`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stack = await startStack({ dataDir: args.dataDir, persistent: true, log });
  } catch (err) {
    clearInterval(keepAlive);
    throw err;
  }
  if (stopRequested) {
    await shutdown(stack);
    return;
  }
  // The settings that reach these servers, credentials included (they are in the data dir's secrets/ anyway).
  const nats = stack.natsPasswords;
  const credentials = nats
    ? `EVENTLY_NATS_EDGE_PASSWORD=${nats.edge}\nEVENTLY_NATS_ACTORS_PASSWORD=${nats.actors}\nEVENTLY_NATS_SUPERVISOR_PASSWORD=${nats.supervisor}\n`
    : '';
  process.stdout.write(
    `NATS_URL=${stack.natsUrl}\n${credentials}REDIS_URL=${stack.redisUrl}\nDATABASE_URL=${stack.databaseUrl}\nSMTP_URL=${stack.smtpUrl}\n`,
  );
  log(`data in ${args.dataDir}; press Ctrl-C to stop`);
}

main().catch((err: unknown) => {
  // A StackError's message is the whole story; anything else is a bug and wants its stack trace.
  const text = err instanceof StackError ? err.message : err instanceof Error ? err.stack : err;
  process.stderr.write(`${String(text)}\n`);
  process.exitCode = 1;
});
