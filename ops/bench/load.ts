// One autocannon load, reduced to the figures the report needs. Each load
// runs twice: a short unmeasured warm-up (JIT, connection pools, prepared
// plans, the first batch) and then the measured run, so a cold start does
// not land in the p99 of whichever scenario happened to go first.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  /** One bearer token per connection: the server serialises one user's bookings of one event. */
  tokens?: readonly string[];
  connections: number;
  duration: number;
  warmup: number;
}

export interface Measurement {
  requests: number;
  reqPerSec: number;
  p50: number;
  p975: number;
  p99: number;
  /** Count per HTTP status, every status including 2xx. */
  statuses: Record<string, number>;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

function options(spec: LoadSpec, duration: number): autocannon.Options {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let next = 0;
  return {
    url: spec.url,
    method: spec.method ?? 'GET',
    body: spec.body,
    headers,
    connections: spec.connections,
    duration,
    timeout: 10,
    // A token per client rather than per request: each connection stays one user for the whole run.
    setupClient: spec.tokens
      ? (client) => {
          const token = spec.tokens![next++ % spec.tokens!.length];
          client.setHeaders({ ...headers, authorization: `Bearer ${token}` });
        }
      : undefined,
  };
}

export function summarise(result: autocannon.Result): Measurement {
  // statusCodeStats exists in autocannon 9 but not in its community types.
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(stats)) statuses[code] = Number(count);
  return {
    requests: result.requests.total,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p975: result.latency.p97_5,
    p99: result.latency.p99,
    statuses,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
  };
}

/** Runs the load in this process; used by load-process.js. */
export async function runLoadHere(spec: LoadSpec): Promise<Measurement> {
  if (spec.warmup > 0) await autocannon(options(spec, spec.warmup));
  return summarise(await autocannon(options(spec, spec.duration)));
}

const LOAD_PROCESS = new URL('./load-process.js', import.meta.url);

let placement: 'process' | 'inline' = 'process';

/** Chosen once from --client, before any load runs. */
export function placeClient(where: 'process' | 'inline'): void {
  placement = where;
}

/** Runs the load in a child process (by default), so the client does not steal the server's event loop. */
export function runLoad(spec: LoadSpec): Promise<Measurement> {
  if (placement === 'inline') return runLoadHere(spec);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_PROCESS.pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`load process exited ${code}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as Measurement);
      } catch (err) {
        reject(err);
      }
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

export function countStatus(m: Measurement, predicate: (status: number) => boolean): number {
  return Object.entries(m.statuses)
    .filter(([code]) => predicate(Number(code)))
    .reduce((sum, [, n]) => sum + n, 0);
}
