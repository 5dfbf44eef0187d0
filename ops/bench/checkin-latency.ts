// `node dist/ops/bench/checkin-latency.js`: twenty gates scanning one event's
// tickets at once, each gate a closed loop (scan, answer, next ticket), the
// way a door's scanners work during the rush at opening. Measures each
// POST /v1/checkin round trip; every ticket must be admitted exactly once.
// Also: twenty gates scanning the SAME ticket at once (exactly one ok), and
// how long an offline scanner takes to verify a code. Reference, same run
// and same client: twenty loops of GET / on a bare Fastify (the machine's
// floor) and of GET /v1/events/:id through the same edge.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { publicKeyFromRaw, verifyTicketCode, type KeyList, type Ticket } from '../../protocol/index.js';
import { createEvent, registerUsers } from './api.js';
import { stopRunningSystems, withSystem, type SystemUnderTest } from './fixture.js';
import { startReference } from './reference.js';
import { median, percentile } from './summary.js';

const usage = `usage: node dist/ops/bench/checkin-latency.js [options]

Prints a markdown table of check-in latency with --gates gates scanning one
event at once (p50/p99/max), beside a bare Fastify and an event read through
the same edge, measured in the same run. Targets: check-in p99 < 20 ms;
offline verification of a code < 1 ms.

Options:
  --tickets N   tickets sold and scanned per run (default 2000)
  --gates G     gates scanning at once (default 20)
  --runs K      repeat with a fresh event; the table shows medians (default 3)
  --help        print this and exit`;

const PER_USER = 10;

interface Samples {
  checkin: number[];
  sameTicket: number[];
  bare: number[];
  read: number[];
  verifyUs: number;
  oks: number;
  tickets: number;
}

async function json<T>(
  url: string,
  token: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** `gates` loops at once, each taking the next job until none is left; returns each call's milliseconds. */
async function gatesAtOnce<J>(
  gates: number,
  jobs: J[],
  call: (job: J, gate: number) => Promise<void>,
): Promise<number[]> {
  const took: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: gates }, async (_, gate) => {
      for (let job = jobs[next++]; job !== undefined; job = jobs[next++]) {
        const started = performance.now();
        await call(job, gate);
        took.push(performance.now() - started);
      }
    }),
  );
  return took;
}

async function soldTickets(sut: SystemUnderTest, count: number): Promise<{ eventId: string; codes: string[] }> {
  const eventId = await createEvent(sut.url, sut.adminToken, {
    name: 'Door bench',
    capacity: count,
    maxTicketsPerUser: PER_USER,
  });
  const tokens = await registerUsers(sut.url, Math.ceil(count / PER_USER));
  const codes: string[] = [];
  await gatesAtOnce(
    8,
    tokens.map((token, i) => ({ token, quantity: Math.min(PER_USER, count - i * PER_USER) })),
    async ({ token, quantity }) => {
      const booked = await json<{ id: string }>(`${sut.url}/v1/events/${eventId}/bookings`, token, 'POST', {
        quantity,
      });
      if (booked.status !== 201) throw new Error(`booking: ${booked.status} ${JSON.stringify(booked.body)}`);
      const tickets = await json<{ items: Ticket[] }>(`${sut.url}/v1/bookings/${booked.body.id}/tickets`, token);
      codes.push(...tickets.body.items.map((t) => t.code));
    },
  );
  return { eventId, codes };
}

async function oneRun(sut: SystemUnderTest, refUrl: string, tickets: number, gates: number): Promise<Samples> {
  const { eventId, codes } = await soldTickets(sut, tickets);
  let oks = 0;
  const scan = async (code: string, gate: number) => {
    const r = await json(`${sut.url}/v1/checkin`, sut.adminToken, 'POST', { code, eventId, gate: `gate-${gate}` });
    if (r.status === 200) oks++;
    else throw new Error(`a first scan was refused: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const checkin = await gatesAtOnce(gates, codes, scan);
  // Contention: every gate scans one ticket at the same moment, a hundred times.
  const contested = (await soldTickets(sut, 100)).codes;
  const sameTicket: number[] = [];
  for (const code of contested) {
    const answers = await Promise.all(
      Array.from({ length: gates }, async (_, gate) => {
        const started = performance.now();
        const r = await json(`${sut.url}/v1/checkin`, sut.adminToken, 'POST', { code, gate: `gate-${gate}` });
        sameTicket.push(performance.now() - started);
        return r.status;
      }),
    );
    if (answers.filter((s) => s === 200).length !== 1)
      throw new Error(`one ticket, ${gates} gates: ${answers.join(',')}`);
  }
  const bare = await gatesAtOnce(gates, codes, async () => {
    await (await fetch(refUrl)).json();
  });
  const read = await gatesAtOnce(gates, codes, async () => {
    await (await fetch(`${sut.url}/v1/events/${eventId}`)).json();
  });
  const keys = (await json<KeyList>(`${sut.url}/v1/checkin/keys`, sut.adminToken)).body;
  const published = new Map(keys.keys.map((k) => [k.kid, publicKeyFromRaw(k.publicKey)]));
  const started = performance.now();
  for (const code of codes)
    if (!verifyTicketCode(code, (kid) => published.get(kid))) throw new Error('a code did not verify offline');
  return {
    checkin,
    sameTicket,
    bare,
    read,
    verifyUs: ((performance.now() - started) * 1000) / codes.length,
    oks,
    tickets: codes.length,
  };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        help: { type: 'boolean', short: 'h' },
        tickets: { type: 'string' },
        gates: { type: 'string' },
        runs: { type: 'string' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const [tickets, gates, runs] = [Number(values.tickets ?? 2000), Number(values.gates ?? 20), Number(values.runs ?? 3)];
  if (![tickets, gates, runs].every((n) => Number.isInteger(n) && n >= 1)) {
    console.error(`--tickets, --gates and --runs must be positive integers\n\n${usage}`);
    return 2;
  }
  process.on('SIGINT', () => void stopRunningSystems().finally(() => process.exit(130)));
  const reference = await startReference();
  const all = await withSystem('checkin', { batching: true, kdfCost: 10 }, async (sut) => {
    const results: Samples[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(sut, reference.url, tickets, gates);
      if (r.oks !== r.tickets) throw new Error(`${r.oks} of ${r.tickets} tickets admitted`);
      results.push(r);
      console.error(
        `  run ${i + 1}: check-in p50 ${median(r.checkin).toFixed(1)} ms, p99 ${percentile(r.checkin, 99).toFixed(1)} ms; offline verify ${r.verifyUs.toFixed(0)} µs`,
      );
    }
    return results;
  }).finally(() => reference.stop());
  const cell = (pick: (s: Samples) => number[], f: (v: number[]) => number) =>
    median(all.map((s) => f(pick(s)))).toFixed(1);
  const line = (label: string, pick: (s: Samples) => number[]) =>
    `| ${label} | ${cell(pick, median)} | ${cell(pick, (v) => percentile(v, 99))} | ${cell(pick, (v) => Math.max(...v))} |`;
  const p99 = Number(
    cell(
      (s) => s.checkin,
      (v) => percentile(v, 99),
    ),
  );
  const verifyUs = median(all.map((s) => s.verifyUs));
  console.log(
    `\n### Check-in: ${gates} gates scanning one event at once (${tickets} tickets, median of ${runs} runs)\n`,
  );
  console.log('| measured | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: |');
  console.log(line(`ref: bare Fastify GET /, ${gates} loops`, (s) => s.bare));
  console.log(line(`ref: GET /v1/events/:id through the edge, ${gates} loops`, (s) => s.read));
  console.log(line(`POST /v1/checkin, ${gates} gates, each ticket once`, (s) => s.checkin));
  console.log(line(`POST /v1/checkin, ${gates} gates on the same ticket (one ok)`, (s) => s.sameTicket));
  console.log(`\noffline verification of a code: ${verifyUs.toFixed(0)} µs`);
  console.log(
    `target check-in p99 < 20 ms: ${p99 < 20 ? 'PASS' : 'MISS'}; offline verify < 1 ms: ${verifyUs < 1000 ? 'PASS' : 'MISS'}`,
  );
  return 0;
}

process.exit(await main());
