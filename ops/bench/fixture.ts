// One system under test for a group of scenarios. `withSystem` guarantees the
// servers stop and the folder goes even when a scenario throws, so a failed
// benchmark never leaves a Postgres behind holding the machine's cores.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig, withOverrides, type Config } from '../../platform/config.js';
import { startThrowawaySystem, type ThrowawaySystem } from '../throwaway-system.js';

export type SystemUnderTest = ThrowawaySystem;

export interface SystemOptions {
  batching: boolean;
  /** undefined = the configured default (the realistic cost of a password hash). */
  kdfCost?: number;
  disabledPools?: readonly string[];
  backgroundYieldMs?: number;
  /** Any further settings a scenario needs (e.g. the webhook allow-list for its receivers). */
  settings?: Partial<Record<keyof Config, unknown>>;
}

// Systems running right now, so a Ctrl-C can stop them before the process goes.
const running = new Set<ThrowawaySystem>();

export async function stopRunningSystems(): Promise<void> {
  const outcomes = await Promise.allSettled([...running].map((sut) => sut.stop()));
  for (const o of outcomes) if (o.status === 'rejected') console.error('  stop failed:', o.reason);
}

export async function withSystem<T>(
  label: string,
  options: SystemOptions,
  use: (sut: SystemUnderTest) => Promise<T>,
): Promise<T> {
  const overrides: Partial<Record<keyof Config, unknown>> = {
    logLevel: 'warn',
    batching: options.batching,
    // The load comes from one IP and a few users: the limits would measure themselves, not the
    // system; and load shedding would turn an overloaded run into 503s rather than a measurement.
    rateLimits: false,
    maxEventLoopDelayMs: 0,
    // A throw-away admin password: the dev default would only add a warning to the output.
    adminPassword: randomBytes(12).toString('base64url'),
  };
  if (options.kdfCost !== undefined) overrides.kdfCost = options.kdfCost;
  if (options.disabledPools) overrides.disabledPools = options.disabledPools;
  if (options.backgroundYieldMs !== undefined) overrides.backgroundYieldMs = options.backgroundYieldMs;
  Object.assign(overrides, options.settings);
  const config = withOverrides(loadConfig(), overrides);
  // Logs to stderr: stdout carries the report, which people paste into docs/benchmarks.md.
  const log = pino(
    { level: config.logLevel, base: { process: `bench-${label}` }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
  const started = Date.now();
  const sut = await startThrowawaySystem(config, `bench-${label}`, log);
  running.add(sut);
  try {
    console.error(
      `  [${label}] system up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${sut.url} (batching ${options.batching ? 'on' : 'off'}, kdfCost ${sut.system.config.kdfCost}, pools off: ${sut.system.config.disabledPools.join(',') || 'none'}, background yield ${sut.system.config.backgroundYieldMs} ms)`,
    );
    return await use(sut);
  } finally {
    running.delete(sut);
    await sut.stop().catch((err: unknown) => console.error(`  [${label}] stop failed:`, err));
  }
}
