// `node dist/ops/bench/ws-fanout.js`: N idle WebSocket clients watch one
// event on one edge; domain events change its availability R times; how long
// until the last client has each change, and what the sockets cost the edge
// in memory. A bare `ws` server fanning out the same NATS events to the same
// crowd is measured in the same run as the reference. The crowd runs in its
// own process, so the server's event loop is measured alone.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createEvent } from './api.js';
import { stopRunningSystems, withSystem, type SystemUnderTest } from './fixture.js';
import { median, percentile } from './summary.js';
import type { CrowdResult, CrowdSpec, FromCrowd, ToCrowd } from './ws-crowd.js';
import { startBareWs } from './ws-reference.js';

const usage = `usage: node dist/ops/bench/ws-fanout.js [options]     (npm run bench:ws -- [options])

Starts a throw-away Evently system, forks a crowd of idle WebSocket clients that
all watch one event, publishes availability changes as domain events on NATS,
and prints a markdown table: fan-out time (publish -> last client) p50/p99,
per-delivery p50/p99, and the server process's RSS and heap before and after
the crowd connected. Reference, same run: a bare ws server fanning out the
same NATS events to the same crowd.

Options:
  --clients N   idle WebSocket clients (default 5000)
  --rounds R    measured availability changes per run, after 5 unmeasured (default 50)
  --runs K      repeat; the table shows medians (default 3)
  --help        print this and exit`;

type Target = 'bare ws' | 'Evently edge';
interface Sample {
  target: Target;
  result: CrowdResult;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  loopBusy: number;
}

/** Settle time after the crowd connects: presence pushes for the new watchers are throttled and must be over. */
const SETTLE_MS = 1500;

// Memory is read after a full GC, so the figures are what the sockets hold, not garbage awaiting collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mib = (bytes: number) => bytes / 1024 / 1024;
function memory(): { rss: number; heap: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: mib(m.rss), heap: mib(m.heapUsed) };
}

function ask(child: ChildProcess, message: ToCrowd, expect: FromCrowd['kind']): Promise<FromCrowd> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: FromCrowd) =>
      m.kind === expect ? resolve(m) : reject(new Error(m.kind === 'failed' ? m.message : `crowd said ${m.kind}`)),
    );
    child.once('exit', (code) => reject(new Error(`crowd exited ${code}`)));
    child.send(message);
  });
}

async function measure(target: Target, spec: CrowdSpec): Promise<Sample> {
  const before = memory();
  const child = fork(new URL('./ws-crowd.js', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await ask(child, { kind: 'start', spec }, 'connected');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = memory();
    // The server's own event loop while the changes fan out: how much of it the fan-out takes.
    const idle = performance.eventLoopUtilization();
    const done = await ask(child, { kind: 'go' }, 'done');
    const loopBusy = performance.eventLoopUtilization(idle).utilization;
    if (done.kind !== 'done') throw new Error('no result');
    return {
      target,
      result: done.result,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heap,
      heapAfter: after.heap,
      loopBusy,
    };
  } finally {
    child.kill();
    if (child.exitCode === null) await once(child, 'exit');
  }
}

async function oneRun(
  sut: SystemUnderTest,
  eventId: string,
  clients: number,
  rounds: number,
  version: { next: number },
): Promise<Sample[]> {
  const { natsUrl, natsSupervisorPassword: natsPass, shards } = sut.system.config;
  const base = { natsUrl: natsUrl, natsPass, shards, eventId, clients, rounds };
  const bare = await startBareWs(natsUrl, natsPass);
  const samples: Sample[] = [];
  try {
    const bareSample = await measure('bare ws', {
      ...base,
      url: bare.url,
      firstVersion: version.next,
      awaitSnapshot: false,
    });
    samples.push(bareSample);
    version.next = bareSample.result.nextVersion;
  } finally {
    await bare.stop();
  }
  const edgeSample = await measure('Evently edge', {
    ...base,
    url: sut.url,
    firstVersion: version.next,
    awaitSnapshot: true,
  });
  samples.push(edgeSample);
  version.next = edgeSample.result.nextVersion;
  for (const s of samples) {
    const sorted = [...s.result.lastMs].sort((a, b) => a - b);
    console.error(
      `  ${s.target}: fan-out p50 ${median(sorted).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms, missed ${s.result.missed}, RSS ${s.rssBefore.toFixed(0)} → ${s.rssAfter.toFixed(0)} MiB`,
    );
  }
  return samples;
}

function table(samples: Sample[], clients: number): string {
  const rows = (['bare ws', 'Evently edge'] as Target[]).map((target) => {
    const mine = samples.filter((s) => s.target === target);
    const m = (f: (s: Sample) => number, digits = 1) => median(mine.map(f)).toFixed(digits);
    const perClient = (s: Sample) => ((s.heapAfter - s.heapBefore) * 1024) / clients;
    return (
      `| ${target === 'bare ws' ? 'ref: bare ws' : target} | ${m((s) => median(s.result.lastMs))} | ${m((s) => percentile(s.result.lastMs, 99))} | ${m((s) => s.result.deliveryP50)} ` +
      `| ${m((s) => s.result.deliveryP99)} | ${m((s) => s.result.missed, 0)} | ${m((s) => s.rssBefore, 0)} → ${m((s) => s.rssAfter, 0)} ` +
      `| ${m((s) => s.heapBefore, 0)} → ${m((s) => s.heapAfter, 0)} | ${m(perClient, 1)} | ${m((s) => s.loopBusy * 100, 0)} % |`
    );
  });
  return [
    '| server | fan-out p50 ms | fan-out p99 ms | delivery p50 ms | delivery p99 ms | missed frames | RSS MiB before → after | heap MiB before → after | heap KiB per client | server loop busy |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        help: { type: 'boolean', short: 'h' },
        clients: { type: 'string' },
        rounds: { type: 'string' },
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
  const int = (raw: string | undefined, flag: string, fallback: number) => {
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${raw}"`);
    return n;
  };
  const clients = int(values.clients, '--clients', 5000);
  const rounds = int(values.rounds, '--rounds', 50);
  const runs = int(values.runs, '--runs', 3);
  process.on('SIGINT', () => void stopRunningSystems().finally(() => process.exit(130)));

  const samples = await withSystem('ws-fanout', { batching: true, kdfCost: 12 }, async (sut) => {
    const eventId = await createEvent(sut.url, sut.adminToken, {
      name: 'Fan-out bench',
      capacity: 1_000_000,
      maxTicketsPerUser: 10,
    });
    const version = { next: 1_000 };
    const all: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      console.error(`run ${i + 1} of ${runs}`);
      all.push(...(await oneRun(sut, eventId, clients, rounds, version)));
    }
    return all;
  });
  console.log(
    `\n### WebSocket fan-out: ${clients} idle clients on one event, ${rounds} changes per run, median of ${runs} runs\n`,
  );
  console.log(table(samples, clients));
  console.log(
    '\nfan-out = publish on NATS → the last client has the frame (per change); delivery = publish → each client. ' +
      'Memory is the whole server process (Evently: edge + supervisor main thread + actor threads), after a full GC; ' +
      "heap is the main thread's (edge and supervisor). Loop busy = the server event loop's utilisation during the measured rounds.",
  );
  return 0;
}

process.exit(await main());
