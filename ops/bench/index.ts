// `npm run bench`: every scenario in one process, one after another, so they
// share the machine's conditions; --runs repeats the whole set and the report
// takes medians. Scenarios that can share a system do (users are registered
// once), and each system is stopped before the next starts, so no scenario
// competes with another's idle servers for the two cores.
import { parseBenchArgs, usage, type BenchArgs } from './args.js';
import { stopRunningSystems, withSystem } from './fixture.js';
import { placeClient, runLoad } from './load.js';
import { startReference } from './reference.js';
import { printReport, writeJson } from './report.js';
import {
  browse,
  browseWhileRegistering,
  crowd,
  flashReads,
  flashSale,
  sellOut,
  type ScenarioResult,
} from './scenarios.js';
import { signupBurst } from './signup-burst.js';
import type { Run } from './summary.js';

/** Bench set-up is quick with a cheap hash; scenario (c) runs at the real default on purpose. */
const SETUP_KDF_COST = 12;

function announce(r: ScenarioResult): void {
  const b = r.bookingsPerSec === undefined ? '' : `, ${r.bookingsPerSec.toFixed(0)} bookings/s`;
  console.error(
    `  ${r.name}: ${r.m.reqPerSec.toFixed(0)} req/s${b}, p99 ${r.m.p99} ms, statuses ${JSON.stringify(r.m.statuses)}, errors ${r.m.errors}`,
  );
}

async function oneRun(args: BenchArgs, failures: string[]): Promise<Run> {
  const run: Run = {};
  const shape = { connections: args.connections, duration: args.duration, warmup: args.warmup };
  const has = (...names: (keyof Run)[]) => names.some((n) => args.only.has(n));
  const record = (r: ScenarioResult) => {
    run[r.name] = r;
    announce(r);
  };
  // A failing group is reported and the others still run: one broken path should not hide the rest.
  const group = async (label: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (err) {
      failures.push(`${label}: ${(err as Error).stack ?? String(err)}`);
      console.error(`  ${label} failed:`, err);
    }
  };

  if (has('ref')) {
    await group('reference', async () => {
      const ref = await startReference();
      try {
        const m = await runLoad({ url: ref.url, ...shape });
        record({ name: 'ref', m, fiveXX: 0 });
      } finally {
        await ref.stop();
      }
    });
  }
  const background = { disabledPools: args.disable, backgroundYieldMs: args.yieldMs };
  if (has('browse', 'flash', 'flash-reads', 'sellout')) {
    await group('batched system', () =>
      withSystem('batched', { batching: true, kdfCost: SETUP_KDF_COST, ...background }, async (sut) => {
        if (has('browse')) record(await browse(sut, shape));
        if (!has('flash', 'flash-reads', 'sellout')) return;
        const tokens = await crowd(sut, shape);
        if (has('flash')) record(await flashSale('flash', sut, tokens, shape));
        if (has('flash-reads')) record(await flashReads(sut, tokens, shape));
        if (has('sellout')) record(await sellOut(sut, tokens, shape));
      }),
    );
  }
  if (has('flash-unbatched')) {
    await group('unbatched system', () =>
      withSystem('unbatched', { batching: false, kdfCost: SETUP_KDF_COST, ...background }, async (sut) => {
        record(await flashSale('flash-unbatched', sut, await crowd(sut, shape), shape));
      }),
    );
  }
  if (has('browse-register', 'signup-burst')) {
    await group('default-cost system', () =>
      withSystem('kdf-default', { batching: true }, async (sut) => {
        if (has('browse-register')) record(await browseWhileRegistering(sut, shape, args.registerConcurrency));
        if (has('signup-burst')) record(await signupBurst(sut));
      }),
    );
  }
  return run;
}

async function main(): Promise<number> {
  let args: BenchArgs | undefined;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (!args) {
    console.log(usage);
    return 0;
  }
  placeClient(args.client);
  // `on`, not `once`: while this listener stays registered the embedded stack leaves the
  // shutdown to us instead of killing its servers outright, so they stop cleanly.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping the systems under test`);
      void stopRunningSystems().finally(() => process.exit(130));
    });
  }
  const failures: string[] = [];
  const runs: Run[] = [];
  for (let i = 0; i < args.runs; i++) {
    console.error(`run ${i + 1} of ${args.runs}`);
    runs.push(await oneRun(args, failures));
  }
  const { json } = printReport(args, runs);
  if (args.json) await writeJson(args.json, { ...json, failures });
  if (failures.length > 0) {
    console.error(`\n${failures.length} scenario group(s) failed to run:\n${failures.join('\n')}`);
    return 1;
  }
  return 0;
}

// Exit explicitly: a pg or NATS handle left by a failed stop must not keep a finished benchmark alive.
process.exit(await main());
