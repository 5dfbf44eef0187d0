// The scenarios, each a scene (event, users) plus one load against it. They
// take a running system rather than start one, so the orchestrator decides
// which scenarios share a system and the same users are not registered twice.
import { createEvent, registerOnce, registerUsers } from './api.js';
import type { SystemUnderTest } from './fixture.js';
import { readSeatLedger, type SeatLedger } from '../../actors/inventory/ledger.js';
import { countStatus, runLoad, type Measurement } from './load.js';
import type { ScenarioName } from './args.js';
import { measureDrain, type DrainResult } from './drain.js';

/** Dynamic pricing on the hot event, evaluated every few seconds, so the pricing actor works during the sale. */
const DYNAMIC = { strategy: 'dynamic', floor: 1000, ceiling: 10_000, intervalSeconds: 5 };

const flashEvent = (sut: SystemUnderTest, name: string) =>
  createEvent(sut.url, sut.adminToken, { name, capacity: 1_000_000, maxTicketsPerUser: 10_000, pricing: DYNAMIC });

const bookingLoad = (sut: SystemUnderTest, eventId: string, tokens: readonly string[], shape: LoadShape) =>
  runLoad({
    url: `${sut.url}/v1/events/${eventId}/bookings`,
    method: 'POST',
    body: '{"quantity":1}',
    tokens,
    ...shape,
  });

export interface LoadShape {
  connections: number;
  duration: number;
  warmup: number;
}

export interface BurstFigures {
  /** Statuses of first attempts only: how many a naive client would have seen refused. */
  firstAttempts: Record<string, number>;
  created: number;
  retries: number;
  secondsToAll: number;
}

export interface ScenarioResult {
  name: ScenarioName;
  m: Measurement;
  /** Bookings only: 201 responses in the measured window. */
  confirmed?: number;
  bookingsPerSec?: number;
  oversell?: SeatLedger;
  /** browse-register only: what the background registration stream achieved. */
  registrations?: { ok: number; failed: number; perSec: number; statuses: Record<string, number> };
  /** flash only: the background's backlog during the sale and its catch-up after. */
  drain?: DrainResult;
  /** signup-burst only: first-attempt statuses, retries and the time until every account existed. */
  burst?: BurstFigures;
  fiveXX: number;
}

function result(name: ScenarioName, m: Measurement, extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return { name, m, fiveXX: countStatus(m, (s) => s >= 500), ...extra };
}

export async function browse(sut: SystemUnderTest, shape: LoadShape): Promise<ScenarioResult> {
  const eventId = await createEvent(sut.url, sut.adminToken, {
    name: 'Browse bench',
    capacity: 1000,
    maxTicketsPerUser: 10,
  });
  return result('browse', await runLoad({ url: `${sut.url}/v1/events/${eventId}`, ...shape }));
}

/** One user per connection, so the per-(user, event) Redis lock never makes two requests wait on each other. */
export async function crowd(sut: SystemUnderTest, shape: LoadShape): Promise<string[]> {
  const started = Date.now();
  const tokens = await registerUsers(sut.url, shape.connections);
  console.error(`  registered ${tokens.length} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return tokens;
}

/**
 * A hot event that cannot sell out in the run (capacity and per-user limit
 * far above what the load can book), so every request does the full work of
 * a booking rather than the cheap SOLD_OUT refusal.
 */
export async function flashSale(
  name: ScenarioName,
  sut: SystemUnderTest,
  tokens: readonly string[],
  shape: LoadShape,
): Promise<ScenarioResult> {
  const eventId = await flashEvent(sut, `Flash ${name}`);
  const { config } = sut.system;
  const { result: m, drain } = await measureDrain(config, sut.db, eventId, config.disabledPools, () =>
    bookingLoad(sut, eventId, tokens, shape),
  );
  const confirmed = m.statuses['201'] ?? 0;
  return result(name, m, {
    confirmed,
    bookingsPerSec: confirmed / m.duration,
    oversell: await readSeatLedger(sut.db, eventId),
    drain,
  });
}

/** Reads of a quiet event while a sale runs on a hot one: the sale must not starve the rest of the catalogue. */
export async function flashReads(
  sut: SystemUnderTest,
  tokens: readonly string[],
  shape: LoadShape,
): Promise<ScenarioResult> {
  const hot = await flashEvent(sut, 'Flash beside reads');
  const quiet = await createEvent(sut.url, sut.adminToken, {
    name: 'Quiet event',
    capacity: 1000,
    maxTicketsPerUser: 10,
  });
  // Half the connections each; the sale starts first and ends last, so every read happens during it.
  const half = { ...shape, connections: Math.max(1, Math.floor(shape.connections / 2)) };
  const sale = bookingLoad(sut, hot, tokens.slice(0, half.connections), { ...half, duration: shape.duration + 1 });
  const reads = await runLoad({ url: `${sut.url}/v1/events/${quiet}`, ...half, warmup: shape.warmup + 0.5 });
  await sale;
  return result('flash-reads', reads);
}

/**
 * The same crowd against a small event until it is gone: exactly `capacity`
 * seats confirmed, the rest refused, none oversold. No warm-up: the race for
 * the last seats is the point.
 */
export async function sellOut(
  sut: SystemUnderTest,
  tokens: readonly string[],
  shape: LoadShape,
): Promise<ScenarioResult> {
  const capacity = shape.connections * 5;
  const eventId = await createEvent(sut.url, sut.adminToken, {
    name: 'Sell-out check',
    capacity,
    maxTicketsPerUser: 10_000,
  });
  const m = await runLoad({
    url: `${sut.url}/v1/events/${eventId}/bookings`,
    method: 'POST',
    body: '{"quantity":1}',
    tokens,
    connections: shape.connections,
    duration: Math.min(3, shape.duration),
    warmup: 0,
  });
  const confirmed = m.statuses['201'] ?? 0;
  const oversell = await readSeatLedger(sut.db, eventId);
  // Sold out means every seat went, and each 201 the clients saw is one of them.
  const soldOut = oversell.available === 0 && confirmed === capacity;
  // No bookings/s: the window is mostly cheap SOLD_OUT refusals, so a rate would mislead.
  return result('sellout', m, { confirmed, oversell: { ...oversell, ok: oversell.ok && soldOut } });
}

/**
 * Browse while a steady stream of sign-ups runs scrypt at the configured
 * cost: password hashing must stay off the threads and loop that serve reads.
 */
export async function browseWhileRegistering(
  sut: SystemUnderTest,
  shape: LoadShape,
  concurrency: number,
): Promise<ScenarioResult> {
  const eventId = await createEvent(sut.url, sut.adminToken, {
    name: 'Browse under sign-ups',
    capacity: 1000,
    maxTicketsPerUser: 10,
  });
  const statuses: Record<string, number> = {};
  let running = true;
  let measuring = false;
  let ok = 0;
  let failed = 0;
  const loop = async () => {
    while (running) {
      const res = await registerOnce(sut.url, 'signup').catch(() => ({ status: 0 }));
      if (!measuring) continue;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 201) ok++;
      else failed++;
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  try {
    // Warm-up runs with the stream already flowing, so the measured window starts in steady state.
    if (shape.warmup > 0)
      await runLoad({ url: `${sut.url}/v1/events/${eventId}`, ...shape, duration: shape.warmup, warmup: 0 });
    measuring = true;
    const m = await runLoad({ url: `${sut.url}/v1/events/${eventId}`, ...shape, warmup: 0 });
    measuring = false;
    return result('browse-register', m, { registrations: { ok, failed, perSec: ok / m.duration, statuses } });
  } finally {
    running = false;
    await Promise.all(loops);
  }
}
