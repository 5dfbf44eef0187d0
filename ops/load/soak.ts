// `node dist/ops/load/soak.js --url URL --pid PID`: a long mixed load against
// a running Evently (browse, book and cancel, waitlist join/poll/leave,
// sign-ups), then the answers by status and the memory of every process of
// the run at start, after the warm-up and at the end.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BENCH_PASSWORD, createEvent, freshEmail, registerUsers } from '../bench/api.js';
import { treeMemory, type ProcessMemory } from './rss.js';

const usage = `usage: node dist/ops/load/soak.js --url URL (--pid PID | --data-dir DIR) [options]

A mixed soak through the public API. Each of --users virtual users repeats,
with --think-ms between actions: browse (GET an event, the event list, the
price; 45 %), book one seat of a large event and cancel it (25 %), list its
bookings (10 %), join the waitlist of a sold-out event, read its place and
leave (20 %). Sign-ups run beside them at --signups-per-s. Prints the answers
by action and status, the 5xx count, and the memory of every
process of the run, grouped by command, at start, after the warm-up and at the
end: USS (private pages, what a leak grows) and PSS (shared pages divided among
their sharers); memory is called flat if no group's USS peaked more than
10 % higher in the later half of the run after the warm-up than in the
earlier half (sampled every --sample-s).

Options:
  --url URL            base URL of the edge (required)
  --pid PID            the Evently process (npm start's node); its children are the servers
  --data-dir DIR       or: its EVENTLY_DATA_DIR, whose owner.pid names it
  --duration S         seconds of load (default 600)
  --warmup S           seconds counted as warm-up, within the duration (default 60)
  --users N            virtual users (default 20)
  --think-ms N         pause between one user's actions (default 50)
  --signups-per-s N    sign-ups per second (default 1)
  --sample-s S         print every group's USS to stderr this often (default 60)
  --admin-email E      admin account that creates the events (default admin@evently.local)
  --admin-password P   its password (default evently-admin)
  --help               print this and exit
Run the target with EVENTLY_RATE_LIMITS=off, or the limits answer 429s.
Exits 1 on any 5xx or unanswered request, or memory that kept growing (above).`;

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    pid: { type: 'string' },
    'data-dir': { type: 'string' },
    duration: { type: 'string', default: '600' },
    warmup: { type: 'string', default: '60' },
    users: { type: 'string', default: '20' },
    'think-ms': { type: 'string', default: '50' },
    'signups-per-s': { type: 'string', default: '1' },
    'sample-s': { type: 'string', default: '60' },
    'admin-email': { type: 'string', default: 'admin@evently.local' },
    'admin-password': { type: 'string', default: 'evently-admin' },
    help: { type: 'boolean', default: false },
  },
});
const fail = (msg: string): never => {
  console.error(`soak: ${msg}\n\n${usage}`);
  process.exit(2);
};
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const base = values.url ?? fail('--url is required');
const num = (name: 'duration' | 'warmup' | 'users' | 'think-ms' | 'signups-per-s' | 'sample-s', min: number) => {
  const v = Number(values[name]);
  return Number.isFinite(v) && v >= min ? v : fail(`--${name} must be a number ≥ ${min}`);
};
const durationS = num('duration', 1);
const warmupS = num('warmup', 0);
if (warmupS >= durationS) fail('--warmup must be shorter than --duration');
const rootPid = Number(
  values.pid ??
    (values['data-dir']
      ? readFileSync(join(values['data-dir'], 'owner.pid'), 'utf8').trim()
      : fail('--pid or --data-dir is required')),
);

type Answers = Map<string, number>;
const answers: Answers = new Map();
let fiveXx = 0;

/** One request; its answer counted under the action's name. */
async function call(
  action: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let status = 0;
  let json: Record<string, unknown> = {};
  try {
    const res = await fetch(new URL(path, base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    status = res.status;
    json = res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
  } catch {
    /* no answer: counted as status 0 */
  }
  if (status === 0 || status >= 500) fiveXx++;
  const code = typeof json.code === 'string' && status >= 400 ? ` ${json.code}` : '';
  const key = `${action}\t${status === 0 ? 'no answer' : status}${code}`;
  answers.set(key, (answers.get(key) ?? 0) + 1);
  return { status, json };
}

async function adminToken(): Promise<string> {
  const res = await call('admin sign-in', 'POST', '/v1/auth/login', undefined, {
    email: values['admin-email'],
    password: values['admin-password'],
  });
  return typeof res.json.token === 'string' ? res.json.token : fail(`admin sign-in failed: ${res.status}`);
}

/**
 * USS of every process group at each snapshot, and its PSS after the warm-up and at the end (its
 * share of the machine, Postgres's shared buffers counted once). Flat is judged on USS, what a
 * leak grows, over every sample after the warm-up: a garbage-collected heap swings by a fifth
 * between two collections, so one snapshot against another says little; the peak of the later
 * half against the peak of the earlier half says whether it keeps growing.
 */
function memoryTable(
  snapshots: { label: string; memory: ProcessMemory[] }[],
  sampled: ProcessMemory[][],
): { text: string; flat: boolean } {
  const commands = [...new Set(snapshots.flatMap((s) => s.memory.map((m) => m.command)))];
  const mib = (kib: number | undefined) => (kib === undefined ? '–' : `${(kib / 1024).toFixed(0)} MiB`);
  const pct = (end: number, warm: number) => `${((end / Math.max(1, warm) - 1) * 100).toFixed(1)} %`;
  const [, warm, end] = snapshots;
  if (!warm || !end) throw new Error('the soak report needs the warm-up and end snapshots');
  const lines = [
    `| process | ${snapshots.map((s) => `USS ${s.label}`).join(' | ')} | USS peak, earlier → later half | ` +
      `PSS ${warm.label} | PSS ${end.label} |`,
    `| --- |${' ---: |'.repeat(snapshots.length + 3)}`,
  ];
  let flat = true;
  type Snapshot = (typeof snapshots)[number];
  const sum = (s: Snapshot, key: 'ussKiB' | 'pssKiB') => s.memory.reduce((n, m) => n + m[key], 0);
  const series = [warm.memory, ...sampled, end.memory];
  const half = Math.floor(series.length / 2);
  for (const command of commands) {
    const of = (s: Snapshot) => s.memory.find((m) => m.command === command);
    const peak = (part: ProcessMemory[][]) =>
      Math.max(0, ...part.map((memory) => memory.find((m) => m.command === command)?.ussKiB ?? 0));
    const [earlier, later] = [peak(series.slice(0, half)), peak(series.slice(half))];
    if (later > earlier * 1.1) flat = false;
    const cells = snapshots.map((s) => {
      const processes = of(s)?.processes ?? 1;
      return `${mib(of(s)?.ussKiB)}${processes > 1 ? ` (${processes})` : ''}`;
    });
    lines.push(
      `| ${command} | ${cells.join(' | ')} | ${mib(earlier)} → ${mib(later)} (${pct(later, earlier)}) | ` +
        `${mib(of(warm)?.pssKiB)} | ${mib(of(end)?.pssKiB)} |`,
    );
  }
  lines.push(
    `| **all** | ${snapshots.map((s) => mib(sum(s, 'ussKiB'))).join(' | ')} | | ` +
      `${mib(sum(warm, 'pssKiB'))} | ${mib(sum(end, 'pssKiB'))} |`,
  );
  return { text: lines.join('\n'), flat };
}

const token = await adminToken();
const big = await createEvent(base, token, {
  name: 'Soak: book and cancel',
  capacity: 1_000_000,
  maxTicketsPerUser: 1000,
});
const soldOut = await createEvent(base, token, { name: 'Soak: sold out', capacity: 2, maxTicketsPerUser: 2 });
const users = await registerUsers(base, Number(values.users) + 1);
await call('sell out', 'POST', `/v1/events/${soldOut}/bookings`, users.pop(), { quantity: 2 });

const snapshots = [{ label: 'start', memory: treeMemory(rootPid, 'evently') }];
const began = Date.now();
const endsAt = began + durationS * 1000;
const thinkMs = num('think-ms', 0);
type Action = [number, (t: string) => Promise<void>];
const actions: [Action, ...Action[]] = [
  [
    45,
    async () => {
      await call('browse', 'GET', `/v1/events/${big}`);
      await call('browse', 'GET', '/v1/events?limit=20');
      await call('browse', 'GET', `/v1/events/${big}/price`);
    },
  ],
  [
    25,
    async (t) => {
      const booked = await call('book', 'POST', `/v1/events/${big}/bookings`, t, { quantity: 1 });
      if (booked.status === 201) await call('cancel', 'POST', `/v1/bookings/${String(booked.json.id)}/cancel`, t, {});
    },
  ],
  [
    10,
    async (t) => {
      await call('my bookings', 'GET', '/v1/bookings?limit=20', t);
    },
  ],
  [
    20,
    async (t) => {
      await call('waitlist join', 'POST', `/v1/events/${soldOut}/waitlist`, t, { quantity: 1 });
      await call('waitlist place', 'GET', `/v1/events/${soldOut}/waitlist/me`, t);
      await call('waitlist leave', 'DELETE', `/v1/events/${soldOut}/waitlist/me`, t);
    },
  ],
];
const pick = () => {
  let r = Math.random() * 100;
  for (const [weight, act] of actions) if ((r -= weight) < 0) return act;
  return actions[0][1];
};
const signupEveryMs = 1000 / num('signups-per-s', 0.01);
const signups = (async () => {
  while (Date.now() < endsAt) {
    await call('sign-up', 'POST', '/v1/auth/register', undefined, {
      email: freshEmail('soak'),
      password: BENCH_PASSWORD,
      name: 'Soak User',
    });
    await sleep(signupEveryMs);
  }
})();
const warmedUp = (async () => {
  await sleep(warmupS * 1000);
  snapshots.push({ label: `after warm-up (${warmupS} s)`, memory: treeMemory(rootPid, 'evently') });
})();
// The trend between the snapshots: whether a group's memory levels off or keeps growing.
const sampleMs = num('sample-s', 1) * 1000;
const samples: { afterWarmup: boolean; memory: ProcessMemory[] }[] = [];
const trend = (async () => {
  for (let at = began + sampleMs; at < endsAt; at += sampleMs) {
    await sleep(at - Date.now());
    const memory = treeMemory(rootPid, 'evently');
    samples.push({ afterWarmup: at - began >= warmupS * 1000, memory });
    const groups = memory.map((m) => `${m.command} ${(m.ussKiB / 1024).toFixed(0)}`);
    console.error(`soak: ${((at - began) / 1000).toFixed(0)} s, USS MiB: ${groups.join(', ')}`);
  }
})();
await Promise.all([
  signups,
  warmedUp,
  trend,
  ...users.map(async (t) => {
    while (Date.now() < endsAt) {
      await pick()(t);
      await sleep(thinkMs);
    }
  }),
]);
snapshots.push({
  label: `end (${((Date.now() - began) / 1000).toFixed(0)} s)`,
  memory: treeMemory(rootPid, 'evently'),
});

const requests = [...answers.values()].reduce((a, b) => a + b, 0);
console.log(
  `\n${base}: ${values.users} users, think ${thinkMs} ms, ${values['signups-per-s']} sign-ups/s, ${durationS} s\n`,
);
console.log('| action | answer | count |\n| --- | --- | ---: |');
for (const [key, n] of [...answers].sort()) {
  const [action, answer] = key.split('\t');
  console.log(`| ${action} | ${answer} | ${n} |`);
}
const memory = memoryTable(
  snapshots,
  samples.filter((s) => s.afterWarmup).map((s) => s.memory),
);
console.log(
  `\n${requests} requests, ${(requests / durationS).toFixed(0)}/s, **${fiveXx} 5xx or unanswered**\n\n${memory.text}\n`,
);
console.log(
  memory.flat
    ? "memory flat (no group's private memory (USS) peaked more than 10 % higher in the later half)"
    : "private memory (USS) GREW: a group's peak in the later half is more than 10 % above the earlier half's",
);
process.exit(fiveXx === 0 && memory.flat ? 0 : 1);
