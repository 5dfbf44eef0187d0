import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import pg from 'pg';
import { startStack, type Stack, type StackOptions } from './index.js';

/** A throw-away stack in a fresh folder, stopped and removed when the test ends. */
async function throwAwayStack(
  t: TestContext,
  services?: StackOptions['services'],
): Promise<{ stack: Stack; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'evently-stack-'));
  // mkdtemp makes 0700 folders; as root, postgres runs as its own user and must get through.
  await chmod(dataDir, 0o755);
  let stack: Stack | undefined;
  // Registered before starting, so a stack that fails half-way leaves no folder behind either.
  t.after(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const log = (msg: string): void => t.diagnostic(msg);
  stack = await startStack({ dataDir, persistent: false, services, log });
  return { stack, dataDir };
}

function portOf(url: string | undefined): number {
  assert.ok(url, 'the stack should report a URL for every server');
  return Number(new URL(url).port);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('when the stack starts on free ports, then all three servers answer', async (t) => {
  const { stack, dataDir } = await throwAwayStack(t);

  const nc = await connect({ servers: stack.natsUrl, user: 'supervisor', pass: stack.natsPasswords?.supervisor });
  const account = await (await nc.jetstreamManager()).getAccountInfo();
  assert.ok(account.limits, 'JetStream should be enabled');
  await nc.close();
  const natsPid = Number(await readFile(join(dataDir, 'nats', 'nats.pid'), 'utf8'));

  const redis = new Redis(stack.redisUrl as string);
  assert.equal(await redis.ping(), 'PONG');
  const redisInfo = await redis.info('server');
  const redisPid = Number(/process_id:(\d+)/.exec(redisInfo)?.[1]);
  redis.disconnect();

  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const { rows } = await db.query<{ one: number; db: string }>('select 1 as one, current_database() as db');
  assert.deepEqual(rows, [{ one: 1, db: 'evently' }]);
  await db.end();
  const postmaster = await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
  const pgPid = Number(postmaster.split('\n')[0]);

  // The PIDs come from the servers themselves, so this proves stop() reached the real processes.
  const pids = [natsPid, redisPid, pgPid];
  for (const pid of pids) assert.ok(pid > 0 && isRunning(pid), `PID ${pid} should be running`);
  await stack.stop();
  for (const pid of pids) assert.equal(isRunning(pid), false, `PID ${pid} should be gone`);
});

test('when two stacks start at once, then they get different ports', async (t) => {
  const [a, b] = await Promise.all([throwAwayStack(t), throwAwayStack(t)]);
  const urls = [a.stack, b.stack].flatMap((s) => [s.natsUrl, s.redisUrl, s.databaseUrl]);
  const ports = urls.map(portOf);
  assert.equal(new Set(ports).size, ports.length, `ports should be distinct: ${ports.join(', ')}`);
});

const onlyRedis = 'when only Redis is asked for, then only Redis starts and a second stop() is harmless';
test(onlyRedis, async (t) => {
  const { stack } = await throwAwayStack(t, { nats: false, postgres: false, mail: false });
  assert.equal(stack.natsUrl, undefined);
  assert.equal(stack.databaseUrl, undefined);
  assert.equal(stack.smtpUrl, undefined);
  const redis = new Redis(stack.redisUrl as string);
  assert.equal(await redis.ping(), 'PONG');
  redis.disconnect();
  await Promise.all([stack.stop(), stack.stop()]);
  await stack.stop();
});
