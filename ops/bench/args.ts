// Command line of the benchmark. Parsed once, validated once: a bad flag
// stops the run before any server starts, so a typo never costs minutes.
import { parseArgs } from 'node:util';

export const SCENARIOS = [
  'ref',
  'browse',
  'flash',
  'flash-reads',
  'flash-unbatched',
  'browse-register',
  'sellout',
  'signup-burst',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchArgs {
  duration: number;
  warmup: number;
  connections: number;
  runs: number;
  only: ReadonlySet<ScenarioName>;
  json?: string;
  registerConcurrency: number;
  client: 'process' | 'inline';
  /** Background pools left off in the systems under test (EVENTLY_DISABLED_POOLS). */
  disable: readonly string[];
  /** EVENTLY_BACKGROUND_YIELD_MS of the systems under test; undefined = the default. */
  yieldMs?: number;
}

export const usage = `usage: node dist/ops/bench/index.js [options]     (npm run bench -- [options])

Measures Evently on this machine with autocannon, every scenario in one process
so they share the machine's conditions, and prints a markdown table:
  ref              bare Fastify 5 GET / (small JSON) in this process: the reference
  browse           GET /v1/events/:id  (edge caches, else NATS -> inventory actor -> Postgres)
  flash            flash sale, batching on: one user per connection booking one event
                   (dynamic pricing on it); then the time until every consumer caught up
  flash-reads      GET /v1/events/:id of another event while a flash sale runs
  flash-unbatched  the same load on a second system started with batching off
  browse-register  browse p99 while users register (default kdfCost) in a steady stream
  sellout          short check: a small event sold out by the same load never oversells
  signup-burst     300 sign-ups, 16 in flight, default kdfCost, clients honour retry-after

Options:
  --duration S         measured seconds per scenario (default 10)
  --warmup S           unmeasured seconds before each scenario (default 2)
  --connections N      autocannon connections (default 100)
  --runs K             repeat the whole set K times; the table shows medians (default 1)
  --only a,b           run only these scenarios (names above)
  --register-concurrency N   register calls in flight during browse-register (default 10)
  --client process|inline   run autocannon in its own process (default) or on the
                       server's event loop (the client then taxes the server it measures)
  --disable a,b        background pools to leave off (mailer, analytics, pricing),
                       to see what each costs the sale
  --yield-ms N         longest a background run waits for the booking path
                       (EVENTLY_BACKGROUND_YIELD_MS; 0 = background never yields)
  --json FILE          also write the results as JSON to FILE
  --help               print this and exit

Targets are checked and printed as PASS/MISS; a MISS never fails the process.`;

function positiveInt(raw: string | undefined, flag: string, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

/** Returns undefined when --help was asked for; throws with a message on bad input. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      'register-concurrency': { type: 'string' },
      client: { type: 'string' },
      disable: { type: 'string' },
      'yield-ms': { type: 'string' },
    },
  });
  if (values.help) return undefined;
  const only = new Set<ScenarioName>();
  for (const name of (values.only ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`--only: unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
    }
    only.add(name as ScenarioName);
  }
  if (only.size === 0) throw new Error('--only names no scenario');
  const client = values.client ?? 'process';
  if (client !== 'process' && client !== 'inline')
    throw new Error(`--client must be process or inline, got "${client}"`);
  return {
    duration: positiveInt(values.duration, '--duration', 10),
    warmup: positiveInt(values.warmup, '--warmup', 2, 0),
    connections: positiveInt(values.connections, '--connections', 100),
    runs: positiveInt(values.runs, '--runs', 1),
    only,
    json: values.json,
    registerConcurrency: positiveInt(values['register-concurrency'], '--register-concurrency', 10),
    client,
    disable: (values.disable ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    yieldMs: values['yield-ms'] === undefined ? undefined : positiveInt(values['yield-ms'], '--yield-ms', 0, 0),
  };
}
