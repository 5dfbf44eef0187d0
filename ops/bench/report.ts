// What a person reads: a markdown table ready to paste into docs/benchmarks.md, the
// targets as PASS/MISS, and the same content as JSON for tools. Formatting
// only; every figure comes from summary.ts.
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { SCENARIOS, type BenchArgs, type ScenarioName } from './args.js';
import { describeOversell } from './invariants.js';
import { batchingSpeedup, row, targets, type Row, type Run } from './summary.js';

const LABELS: Record<ScenarioName, string> = {
  ref: 'ref: bare Fastify `GET /`',
  browse: '(a) browse `GET /v1/events/:id`',
  flash: '(b1) flash sale, batching on',
  'flash-reads': '(b3) browse another event during a sale',
  'flash-unbatched': '(b2) flash sale, batching off',
  'browse-register': '(c) browse during sign-ups',
  sellout: 'sell-out check (small event)',
  'signup-burst': 'sign-up burst (req/s = sign-ups/s)',
};

const num = (x: number | undefined, digits = 0) =>
  x === undefined ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function nonOk(r: Row): string {
  const parts = Object.entries(r.statuses)
    .filter(([code]) => Number(code) < 200 || Number(code) >= 300)
    .map(([code, n]) => `${code}: ${num(n)}`);
  return parts.length > 0 ? parts.join(', ') : '0';
}

export function markdownTable(rows: readonly Row[]): string {
  const head =
    '| scenario | req/s | bookings/s | × ref | p50 ms | p97.5 ms | p99 ms | non-2xx by status | errors / timeouts | 5xx | oversell check |';
  const rule = '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |';
  const lines = rows.map(
    (r) =>
      `| ${LABELS[r.name]} | ${num(r.reqPerSec)} | ${num(r.bookingsPerSec)} | ${r.ratio === undefined ? (r.name === 'ref' ? '1' : '–') : num(r.ratio, 3)} ` +
      `| ${r.p50} | ${r.p975} | ${r.p99} | ${nonOk(r)} | ${num(r.errors)} / ${num(r.timeouts)} | ${num(r.fiveXX)} ` +
      `| ${r.oversellOk === undefined ? '–' : r.oversellOk ? 'OK' : '**MISMATCH**'} |`,
  );
  return [head, rule, ...lines].join('\n');
}

function rowsOf(runs: readonly Run[]): Row[] {
  return SCENARIOS.flatMap((name) => row(name, runs) ?? []);
}

function runDetails(run: Run): string[] {
  const out: string[] = [];
  for (const r of Object.values(run)) {
    if (r.oversell)
      out.push(
        `  ${r.name} oversell check: ${describeOversell(r.oversell)}; 201s seen ${r.confirmed}, 5xx ${r.fiveXX}`,
      );
    if (r.drain) {
      const took = r.drain.drainMs === null ? 'NOT within the limit' : `in ${(r.drain.drainMs / 1000).toFixed(1)} s`;
      out.push(
        `  ${r.name} background: peak backlog ${r.drain.peakLag} domain messages; caught up (stream, mails, analytics) ${took} after the load`,
      );
    }
    if (r.registrations) {
      const g = r.registrations;
      out.push(
        `  ${r.name} sign-ups during the window: ${g.ok} ok (${g.perSec.toFixed(1)}/s), ${g.failed} failed, statuses ${JSON.stringify(g.statuses)}`,
      );
    }
    if (r.burst) {
      const b = r.burst;
      out.push(
        `  ${r.name}: ${b.created} accounts in ${b.secondsToAll.toFixed(1)} s; first attempts ${JSON.stringify(b.firstAttempts)}; every answer ${JSON.stringify(r.m.statuses)}; ${b.retries} retries after retry-after; 5xx other than 503: ${r.fiveXX}`,
      );
    }
  }
  return out;
}

export function printReport(
  args: BenchArgs,
  runs: readonly Run[],
): { markdown: string; json: Record<string, unknown> } {
  const header =
    `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ` +
    `autocannon -c ${args.connections} -d ${args.duration} (warm-up ${args.warmup} s), client ${args.client === 'process' ? 'in its own process' : "on the server's event loop"}, loopback`;
  runs.forEach((run, i) => {
    console.log(`\n### Run ${i + 1} of ${runs.length}\n`);
    console.log(markdownTable(rowsOf([run])));
    for (const line of runDetails(run)) console.log(line);
  });
  const rows = rowsOf(runs);
  const byName = Object.fromEntries(rows.map((r) => [r.name, r])) as Partial<Record<ScenarioName, Row>>;
  const speedup = batchingSpeedup(runs);
  const checked = targets(byName, runs, args.connections);
  const title = runs.length > 1 ? `Median of ${runs.length} runs` : 'Result';
  const markdown = [
    `### ${title}: ${header}`,
    '',
    markdownTable(rows),
    '',
    ...(speedup === undefined
      ? []
      : [`Batching speed-up (b1 bookings/s ÷ b2 bookings/s): **${speedup.toFixed(2)}×**`, '']),
    '| target | measured | |',
    '| --- | ---: | --- |',
    ...checked.map((t) => `| ${t.what} | ${t.value} | ${t.pass ? 'PASS' : 'MISS'} |`),
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const misses = checked.filter((t) => !t.pass).length;
  console.log(
    misses === 0 ? 'All targets met.' : `${misses} of ${checked.length} targets missed (reported, not asserted).`,
  );
  const json = {
    machine: header,
    args: { ...args, only: [...args.only] },
    median: rows,
    batchingSpeedup: speedup,
    targets: checked,
    runs,
  };
  return { markdown, json };
}

export async function writeJson(file: string, json: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
}
