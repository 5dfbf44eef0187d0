// `npm start` as a person runs it (dist/ops/start.js in its own process
// group, its servers keeping data in one folder), stopped the two ways the
// issue found broken: SIGKILL (its servers are orphaned; the next start on
// that folder must stop them and come up on the same data) and SIGTERM to its
// process group right after a sale (everything it started must be gone, well
// before the SIGKILL an impatient operator sends 20 s later).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { settings } from '../../platform/config.js';
import { eventuallyValue } from '../testing/eventually.js';
import { bookingStream } from '../load/booking-stream.js';

const START = new URL('../start.js', import.meta.url).pathname;
const PATIENCE_MS = 120_000;
const dataDir = mkdtempSync(join(tmpdir(), 'evently-clean-stop-'));
chmodSync(dataDir, 0o755);
const PID_FILES = { nats: 'nats/nats.pid', redis: 'redis/redis.pid', postgres: 'pg/postmaster.pid' };

/** Alive and not a zombie (an orphan's zombie may wait long for a reaper in a container). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
const serverPids = (): number[] =>
  Object.values(PID_FILES)
    .map((f) => join(dataDir, f))
    .filter((f) => existsSync(f))
    .map((f) => Number(readFileSync(f, 'utf8').split('\n')[0]));

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}
const children: ChildProcess[] = [];
after(() => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null)
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
  // Whatever a failed test left running on this folder, by the PIDs its servers wrote.
  for (const pid of serverPids()) if (running(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function npmStart(): Promise<Started> {
  const child = spawn(process.execPath, [START], {
    env: {
      PATH: process.env.PATH,
      EVENTLY_DATA_DIR: dataDir,
      EVENTLY_HTTP_PORT: '0',
      EVENTLY_ADMIN_PORT: '0',
      EVENTLY_KDF_COST: '10',
      EVENTLY_RATE_LIMITS: 'off',
      EVENTLY_MAX_EVENT_LOOP_DELAY_MS: '0',
      EVENTLY_LOG_LEVEL: 'warn',
      EVENTLY_IDENTITY_NICE: '0',
      EVENTLY_BACKGROUND_NICE: '0',
      EVENTLY_WAITROOM_NICE: '0',
    },
    // Its own process group, as a terminal gives `npm start`: a group signal reaches only it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = await eventuallyValue(
    'npm start ready',
    () => {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
      return /evently: ready in [\d.]+ s at (\S+)/.exec(output)?.[1];
    },
    PATIENCE_MS,
  );
  return { child, url, output: () => output };
}

async function api(url: string, method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A small flash sale: 20 buyers, two tickets each, on a fresh event; returns the event id. */
async function sale(url: string, label: string): Promise<string> {
  const admin = await api(url, 'POST', '/v1/auth/login', {
    email: settings.adminEmail.default,
    password: settings.adminPassword.default,
  });
  const event = await api(
    url,
    'POST',
    '/v1/events',
    {
      name: label,
      venue: 'Hall',
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      capacity: 30,
      price: 2500,
    },
    admin.body.token,
  );
  assert.equal(event.status, 201, JSON.stringify(event.body));
  const users = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const r = await api(url, 'POST', '/v1/auth/register', {
        email: `${label}-${i}@example.test`,
        password: 'correct horse battery',
        name: 'buyer',
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { token: r.body.token as string };
    }),
  );
  const result = await bookingStream({ url, eventId: event.body.id, users, perUser: 2, pauseMs: 0, label });
  assert.equal(result.created.length, 30, 'sold out');
  return event.body.id;
}

let soldEvent = '';

test(
  'when npm start is killed with SIGKILL, then the next start on its data folder stops the orphaned servers and comes up on the same data',
  { timeout: 600_000 },
  async () => {
    const first = await npmStart();
    soldEvent = await sale(first.url, 'killed');
    const orphans = serverPids();
    assert.equal(orphans.length, 3);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    assert.ok(orphans.every(running), 'the servers outlive a SIGKILLed parent (the case being tested)');

    const second = await npmStart();
    assert.ok(
      orphans.every((pid) => !running(pid)),
      `the earlier servers were stopped:\n${second.output()}`,
    );
    // Ready means the edge listens; the read waits for the event's shard to be served.
    const event = await eventuallyValue(
      'the event read on the second start',
      async () => {
        const r = await api(second.url, 'GET', `/v1/events/${soldEvent}`);
        return r.status === 200 ? r.body : undefined;
      },
      PATIENCE_MS,
    );
    assert.equal(event.available, 0, 'the sold-out event is still there');
    process.kill(-second.child.pid!, 'SIGTERM');
    await eventuallyValue(
      'the second start stopped',
      () => second.child.exitCode !== null || second.child.signalCode !== null || undefined,
      PATIENCE_MS,
    );
  },
);

test(
  'when a second npm start is run on the folder of a live one, then it refuses, names the run, and leaves its servers alone',
  { timeout: 600_000 },
  async () => {
    const live = await npmStart();
    const pids = serverPids();
    const second = spawn(process.execPath, [START], {
      env: {
        PATH: process.env.PATH,
        EVENTLY_DATA_DIR: dataDir,
        EVENTLY_HTTP_PORT: '0',
        EVENTLY_ADMIN_PORT: '0',
        EVENTLY_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(second);
    let output = '';
    second.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [code] = await once(second, 'exit');
    assert.equal(code, 1);
    assert.match(output, new RegExp(`another run \\(PID ${live.child.pid}\\) is using`));
    assert.ok(pids.every(running), "the live run's servers are untouched");
    assert.equal((await api(live.url, 'GET', '/healthz')).status, 200);
    process.kill(-live.child.pid!, 'SIGTERM');
    await once(live.child, 'exit');
  },
);

test(
  "when npm start's process group gets SIGTERM right after a sale, then everything it started is gone before a SIGKILL 20 s later",
  { timeout: 600_000 },
  async (ctx) => {
    const started = await npmStart();
    await sale(started.url, 'stopped');
    const pids = [started.child.pid!, ...serverPids()];
    assert.equal(pids.length, 4);
    const exited = once(started.child, 'exit');
    const signalledAt = Date.now();
    process.kill(-started.child.pid!, 'SIGTERM');
    const gone = await eventuallyValue(
      'every process stopped',
      () => (pids.every((pid) => !running(pid)) ? Date.now() : undefined),
      20_000,
    ).catch(() => {
      process.kill(-started.child.pid!, 'SIGKILL');
      return null;
    });
    ctx.diagnostic(
      gone
        ? `everything stopped ${gone - signalledAt} ms after SIGTERM`
        : 'still running 20 s after SIGTERM: SIGKILLed',
    );
    await exited;
    assert.deepEqual(pids.filter(running), [], `no process left behind:\n${started.output()}`);
    assert.ok(gone !== null, `stopped before the SIGKILL:\n${started.output()}`);
  },
);
