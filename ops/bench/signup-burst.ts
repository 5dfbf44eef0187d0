// Scenario `signup-burst`: a wave of new users at the default KDF cost, as
// when a sale is announced. 300 sign-ups, 16 in flight, each client honouring
// `retry-after` (and retrying with its Idempotency-Key); reports what the
// first attempts got, every answer, and how long until all 300 had accounts.
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_PASSWORD, freshEmail } from './api.js';
import type { SystemUnderTest } from './fixture.js';
import type { Measurement } from './load.js';
import type { BurstFigures, ScenarioResult } from './scenarios.js';
import { percentile } from './summary.js';

export const BURST_SIGNUPS = 300;
export const BURST_IN_FLIGHT = 16;
/** A client gives up on one sign-up after this many answers: a broken system ends the run, not hangs it. */
const MAX_ATTEMPTS = 100;

async function attempt(
  base: string,
  body: string,
  key: string,
): Promise<{ status: number; retryAfter: number; ms: number }> {
  const started = performance.now();
  try {
    const res = await fetch(new URL('/v1/auth/register', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body,
    });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: Number(res.headers.get('retry-after')), ms: performance.now() - started };
  } catch {
    return { status: 0, retryAfter: 0, ms: performance.now() - started };
  }
}

export async function signupBurst(sut: SystemUnderTest): Promise<ScenarioResult> {
  const statuses: Record<string, number> = {};
  const firstAttempts: Record<string, number> = {};
  const latencies: number[] = [];
  let created = 0;
  let retries = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < BURST_SIGNUPS) {
      next++;
      const email = freshEmail('burst');
      const body = JSON.stringify({ email, password: BENCH_PASSWORD, name: 'Burst User' });
      for (let n = 0; n < MAX_ATTEMPTS; n++) {
        const r = await attempt(sut.url, body, email);
        latencies.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (n === 0) firstAttempts[r.status] = (firstAttempts[r.status] ?? 0) + 1;
        if (r.status === 0) errors++;
        if (r.status === 201) created++;
        if (r.status === 201 || r.status === 409) break;
        retries++;
        // What a polite client does: the server's retry-after, else a second.
        await sleep((r.retryAfter >= 1 ? r.retryAfter : 1) * 1000);
      }
    }
  };
  await Promise.all(Array.from({ length: BURST_IN_FLIGHT }, client));
  const duration = (performance.now() - started) / 1000;
  const requests = latencies.length;
  const m: Measurement = {
    requests,
    reqPerSec: created / duration,
    statuses,
    errors,
    timeouts: 0,
    duration,
    p50: Math.round(percentile(latencies, 50)),
    p975: Math.round(percentile(latencies, 97.5)),
    p99: Math.round(percentile(latencies, 99)),
    non2xx: requests - (statuses['201'] ?? 0),
  };
  const burst: BurstFigures = { firstAttempts, created, retries, secondsToAll: duration };
  return {
    name: 'signup-burst',
    m,
    fiveXX: Object.entries(statuses)
      .filter(([s]) => Number(s) >= 500 && s !== '503')
      .reduce((n, [, c]) => n + c, 0),
    burst,
  };
}
