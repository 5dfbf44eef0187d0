// `node dist/ops/bench/promotion-latency.js`: how long from a cancellation to
// the offer reaching the head waitlist entry's WebSocket. One event of one
// seat and a queue of R people, each with a signed-in socket; in each round
// the seat's holder cancels, the next in line gets the offer on their socket
// and confirms it, becoming the holder. Measured from the cancel request sent
// (an upper bound: the commit happens after) and from its answer received
// (a lower bound: the commit happened before). Reference, same run: a plain
// GET of the event, sequentially, through the same edge.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../../protocol/index.js';
import { createEvent, registerUsers } from './api.js';
import { stopRunningSystems, withSystem, type SystemUnderTest } from './fixture.js';
import { median, percentile } from './summary.js';

const usage = `usage: node dist/ops/bench/promotion-latency.js [options]

Prints a markdown table of the time from a booking's cancellation to the
waitlist offer arriving on the next person's WebSocket (p50/p99/max), with a
plain event read through the same edge as the reference. Target: p99 < 250 ms.

Options:
  --rounds R   cancellations (and people in the queue) per run (default 100)
  --runs K     repeat with a fresh queue; the table shows medians (default 3)
  --help       print this and exit`;

const OFFER_TIMEOUT_MS = 10_000;

interface Samples {
  fromSent: number[];
  fromAnswered: number[];
  reference: number[];
}

async function call(sut: SystemUnderTest, method: string, path: string, token: string, body?: unknown): Promise<any> {
  const res = await fetch(sut.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A signed-in socket that resolves the next offer it receives. */
async function offerSocket(
  url: string,
  token: string,
): Promise<{ offer: () => Promise<{ holdId: string; at: number }>; close: () => void }> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let resolveOffer: (o: { holdId: string; at: number }) => void = () => undefined;
  const offered = new Promise<{ holdId: string; at: number }>((resolve) => {
    resolveOffer = resolve;
  });
  socket.on('message', (data) => {
    const at = performance.now();
    const m = JSON.parse(String(data)) as ServerMessage;
    if (m.type === 'waitlist' && m.entry.status === 'offered' && 'offer' in m.entry && m.entry.offer)
      resolveOffer({ holdId: m.entry.offer.holdId, at });
  });
  return {
    offer: () =>
      Promise.race([
        offered,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('no offer on the socket')), OFFER_TIMEOUT_MS),
        ),
      ]),
    close: () => socket.terminate(),
  };
}

async function oneRun(sut: SystemUnderTest, rounds: number): Promise<Samples> {
  const eventId = await createEvent(sut.url, sut.adminToken, {
    name: 'Promotion bench',
    capacity: 1,
    maxTicketsPerUser: 1,
  });
  const [first, ...others] = await registerUsers(sut.url, rounds + 1);
  if (first === undefined) throw new Error('no user registered');
  let holding = (await call(sut, 'POST', `/v1/events/${eventId}/bookings`, first, { quantity: 1 })).id as string;
  let holder = first;
  const waiters = [];
  for (const token of others) {
    waiters.push({ token, socket: await offerSocket(sut.url, token) });
    await call(sut, 'POST', `/v1/events/${eventId}/waitlist`, token, { quantity: 1 });
  }
  const sockets = waiters.map((w) => w.socket);
  const samples: Samples = { fromSent: [], fromAnswered: [], reference: [] };
  try {
    for (const waiter of waiters) {
      const sent = performance.now();
      await call(sut, 'POST', `/v1/bookings/${holding}/cancel`, holder);
      const answered = performance.now();
      const { holdId, at } = await waiter.socket.offer();
      samples.fromSent.push(at - sent);
      samples.fromAnswered.push(Math.max(0, at - answered));
      holder = waiter.token;
      holding = (await call(sut, 'POST', `/v1/holds/${holdId}/confirm`, holder)).id;
      const read = performance.now();
      await call(sut, 'GET', `/v1/events/${eventId}`, holder);
      samples.reference.push(performance.now() - read);
    }
  } finally {
    for (const s of sockets) s.close();
  }
  return samples;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { help: { type: 'boolean', short: 'h' }, rounds: { type: 'string' }, runs: { type: 'string' } },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const rounds = Number(values.rounds ?? 100);
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(runs) || runs < 1) {
    console.error(`--rounds and --runs must be positive integers\n\n${usage}`);
    return 2;
  }
  process.on('SIGINT', () => void stopRunningSystems().finally(() => process.exit(130)));
  const all = await withSystem('promotion', { batching: true, kdfCost: 12 }, async (sut) => {
    const results: Samples[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(sut, rounds);
      results.push(r);
      console.error(
        `  run ${i + 1}: offer p50 ${median(r.fromSent).toFixed(1)} ms, p99 ${percentile(r.fromSent, 99).toFixed(1)} ms from cancel sent`,
      );
    }
    return results;
  });
  const cell = (pick: (s: Samples) => number[], f: (v: number[]) => number) =>
    median(all.map((s) => f(pick(s)))).toFixed(1);
  const line = (label: string, pick: (s: Samples) => number[]) =>
    `| ${label} | ${cell(pick, median)} | ${cell(pick, (v) => percentile(v, 99))} | ${cell(pick, (v) => Math.max(...v))} |`;
  const p99 = Number(
    cell(
      (s) => s.fromSent,
      (v) => percentile(v, 99),
    ),
  );
  console.log(
    `\n### Waitlist promotion: cancellation → offer on the next person's WebSocket (${rounds} rounds, median of ${runs} runs)\n`,
  );
  console.log('| measured | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: |');
  console.log(line('ref: GET /v1/events/:id round trip', (s) => s.reference));
  console.log(line('cancel sent → offer on socket', (s) => s.fromSent));
  console.log(line('cancel answered → offer on socket', (s) => s.fromAnswered));
  console.log(`\ntarget p99 < 250 ms (from cancel sent): ${p99 < 250 ? 'PASS' : 'MISS'}`);
  return 0;
}

process.exit(await main());
