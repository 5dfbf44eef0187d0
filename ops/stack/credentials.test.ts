// The embedded servers require credentials (issue 14): Postgres no longer
// trusts every local user, Redis needs its password, NATS its users; the
// generated secrets are readable by their owner only and kept across starts.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'nats';
import pg from 'pg';
import { startStack, type Stack } from './index.js';
import { redisPing } from './probes.js';
import { secretsDir } from './secrets.js';

let dataDir: string;
let stack: Stack;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'evently-creds-'));
  await chmod(dataDir, 0o755);
  stack = await startStack({ dataDir, persistent: false, services: { mail: false }, log: () => undefined });
});
after(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const tryPg = async (connectionString: string) => {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } finally {
    await c.end().catch(() => undefined);
  }
};

test('when a local process connects to the embedded Postgres without the password, then it is refused; with it, it is in', async () => {
  const url = new URL(stack.databaseUrl!);
  assert.ok(url.password, 'the URL carries the generated password');
  const bare = new URL(url);
  bare.password = '';
  await assert.rejects(tryPg(bare.toString()), /password/i);
  const wrong = new URL(url);
  wrong.password = 'guessed';
  await assert.rejects(tryPg(wrong.toString()), /password authentication failed/i);
  await tryPg(url.toString());
});

test('when a local process talks to the embedded Redis or NATS without credentials, then it is refused', async () => {
  const port = Number(new URL(stack.redisUrl!).port);
  assert.equal(await redisPing(port), false, 'no password: NOAUTH');
  assert.equal(await redisPing(port, decodeURIComponent(new URL(stack.redisUrl!).password)), true);
  await assert.rejects(connect({ servers: stack.natsUrl, reconnect: false }), /Authorization Violation/i);
  const nc = await connect({ servers: stack.natsUrl, user: 'supervisor', pass: stack.natsPasswords!.supervisor });
  await nc.close();
});

test('when the secrets are generated, then only their owner can read them', async () => {
  assert.equal((await stat(secretsDir(dataDir))).mode & 0o777, 0o700);
  for (const name of ['postgres-password', 'redis-password', 'nats-edge', 'nats-actors', 'nats-supervisor']) {
    assert.equal((await stat(join(secretsDir(dataDir), name))).mode & 0o777, 0o600, name);
  }
  assert.equal((await stat(join(dataDir, 'nats', 'nats.conf'))).mode & 0o777, 0o600, 'nats.conf holds the passwords');
});
