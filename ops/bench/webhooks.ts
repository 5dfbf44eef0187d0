// `node dist/ops/bench/webhooks.js`: what outgoing webhooks cost a flash
// sale, and how soon every booking reaches its receivers. On one system, in
// one run: a flash sale with no webhook endpoints, then the same sale on a
// fresh event with two endpoints subscribed to booking.confirmed (receivers
// in their own process, answering at once); then the time from the sale's
// end until both receivers have every booking (distinct webhook-ids).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crowd, flashSale, type ScenarioResult } from './scenarios.js';
import { stopRunningSystems, withSystem, type SystemUnderTest } from './fixture.js';
import { expectRow } from '../../platform/expect-row.js';
import { median } from './summary.js';

const usage = `usage: node dist/ops/bench/webhooks.js [options]

Prints a markdown table: flash-sale bookings/s and p99 with no webhook
endpoints and with two endpoints subscribed to booking.confirmed (same
system, same run), and the seconds from the end of the sale until both
receivers (their own process) hold every booking. Targets: bookings/s within
10% of the run without endpoints; everything delivered within 60 s.

Options:
  --duration S      measured seconds per sale (default 10)
  --warmup S        unmeasured seconds before each sale (default 2)
  --connections N   autocannon connections, one user each (default 100)
  --runs K          alternate the two sales K times; the table shows medians (default 1)
  --help            print this and exit`;

async function startReceivers(n: number): Promise<{ ports: number[]; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./webhook-receivers.js', import.meta.url)), String(n)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { ports: JSON.parse(line.toString('utf8')) as number[], stop: () => child.stdin.end() };
}

const distinct = async (port: number, eventId: string) =>
  ((await (await fetch(`http://127.0.0.1:${port}/stats?eventId=${eventId}`)).json()) as { distinct: number }).distinct;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        help: { type: 'boolean', short: 'h' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
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
  const shape = {
    duration: Number(values.duration ?? 10),
    warmup: Number(values.warmup ?? 2),
    connections: Number(values.connections ?? 100),
  };
  const runs = Number(values.runs ?? 1);
  if (
    ![...Object.values(shape), runs].every((n) => Number.isInteger(n) && n >= 0) ||
    shape.duration < 1 ||
    shape.connections < 1 ||
    runs < 1
  ) {
    console.error(`--duration, --warmup, --connections and --runs must be whole numbers\n\n${usage}`);
    return 2;
  }
  process.on('SIGINT', () => void stopRunningSystems().finally(() => process.exit(130)));
  const receivers = await startReceivers(2);
  const without: ScenarioResult[] = [];
  const withHooks: ScenarioResult[] = [];
  const catchUps: number[] = [];
  try {
    await withSystem(
      'webhooks',
      { batching: true, kdfCost: 12, settings: { webhookAllowHosts: receivers.ports.map((p) => `127.0.0.1:${p}`) } },
      async (sut) => {
        const tokens = await crowd(sut, shape);
        const endpoints: string[] = [];
        for (let run = 0; run < runs; run++) {
          // Endpoints come and go between the two sales, so both run on the same warm system.
          for (const id of endpoints.splice(0)) await admin(sut, 'DELETE', `/v1/admin/webhooks/${id}`);
          const bare = await flashSale('flash', sut, tokens, shape);
          without.push(bare);
          console.error(
            `  run ${run + 1}, no endpoints: ${bare.bookingsPerSec?.toFixed(0)} bookings/s, p99 ${bare.m.p99} ms`,
          );
          for (const port of receivers.ports) {
            endpoints.push(
              (
                await admin(sut, 'POST', '/v1/admin/webhooks', {
                  url: `http://127.0.0.1:${port}/hook`,
                  events: ['booking.confirmed'],
                })
              ).id,
            );
          }
          const hooked = await flashSale('flash', sut, tokens, shape);
          const caughtUp = await catchUp(sut, receivers.ports);
          withHooks.push(hooked);
          catchUps.push(caughtUp);
          console.error(
            `  run ${run + 1}, two endpoints: ${hooked.bookingsPerSec?.toFixed(0)} bookings/s, p99 ${hooked.m.p99} ms, all delivered ${caughtUp.toFixed(1)} s after the sale`,
          );
        }
      },
    );
  } finally {
    receivers.stop();
  }
  if (withHooks.length < runs) return 1;
  const rate = (rs: ScenarioResult[]) => median(rs.map((r) => r.bookingsPerSec ?? 0));
  const ratio = rate(withHooks) / rate(without);
  const line = (label: string, rs: ScenarioResult[], extra: string) =>
    `| ${label} | ${median(rs.map((r) => r.confirmed ?? 0)).toFixed(0)} | ${rate(rs).toFixed(0)} | ${median(rs.map((r) => r.m.p99)).toFixed(0)} | ${extra} |`;
  console.log(
    `\n### Flash sale with and without two webhook endpoints (${shape.connections} connections, ${shape.duration} s, median of ${runs})\n`,
  );
  console.log(
    '| run | confirmed | bookings/s | p99 ms | all delivered to both, s after the sale |\n| --- | ---: | ---: | ---: | ---: |',
  );
  console.log(line('no endpoints', without, '–'));
  console.log(line('2 endpoints on booking.confirmed', withHooks, median(catchUps).toFixed(1)));
  console.log(
    `\n- bookings/s with endpoints: ${(ratio * 100).toFixed(0)}% of without (target ≥ 90%): ${ratio >= 0.9 ? 'PASS' : 'MISS'}`,
  );
  console.log(
    `- every booking at both receivers ${Math.max(...catchUps).toFixed(1)} s after the sale at worst (target ≤ 60 s): ${Math.max(...catchUps) <= 60 ? 'PASS' : 'MISS'}`,
  );
  return 0;
}

async function admin(sut: SystemUnderTest, method: string, path: string, body?: unknown): Promise<{ id: string }> {
  const res = await fetch(`${sut.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${sut.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? { id: '' } : ((await res.json()) as { id: string });
}

/** Seconds from now (the sale's end) until both receivers hold every confirmed booking of the latest sale. */
async function catchUp(sut: SystemUnderTest, ports: readonly number[]): Promise<number> {
  const ended = Date.now();
  const {
    rows: [last],
  } = await sut.db.query<{ event_id: string; n: number }>(
    `SELECT event_id, count(*)::int AS n FROM bookings WHERE status = 'confirmed' GROUP BY event_id ORDER BY max(created_at) DESC LIMIT 1`,
  );
  const ev = expectRow(last, 'the last sale');
  for (;;) {
    const got = await Promise.all(ports.map((p) => distinct(p, ev.event_id)));
    if (got.every((g) => g >= ev.n)) return (Date.now() - ended) / 1000;
    if (Date.now() - ended > 300_000) throw new Error(`after 300 s the receivers hold ${got.join(' and ')} of ${ev.n}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

process.exit(await main());
