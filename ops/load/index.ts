// `node dist/ops/load/index.js --url URL`: autocannon scenarios against any
// running Evently (an edge, HAProxy, the compose stack), with a summary table.
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { summarise, type Measurement } from '../bench/load.js';
import { LOAD_SCENARIOS, checkThroughApi, plan, setScene, type LoadScenario } from './scenarios.js';

const usage = `usage: node dist/ops/load/index.js --url URL [options]

Runs autocannon scenarios against a running Evently through its public API
(one registered user per connection) and prints a summary table:
  browse    GET /v1/events/:id and GET /v1/events
  flash     a flash sale: every user books 1 seat at a time (limit 2) of an event
            with one seat per user, until sold out; then seats sold must equal the 201s
  mixed     browse, book 1 seat, cancel it, per connection; sold = booked − cancelled
  waitlist  a sold-out event; every user joins its waitlist and polls their
            position (POST /v1/events/:id/waitlist, GET …/waitlist/me). Needs the
            waitlist routes: where they are absent the table shows 404s.

Options:
  --url URL              base URL of an edge or of HAProxy (required)
  --scenario a,b         scenarios to run (default: all, in the order above)
  --duration S           seconds per scenario (default 10)
  --connections N        connections = users (default 50)
  --admin-email E        admin account that creates the events (default admin@evently.local)
  --admin-password P     its password (default evently-admin)
  --insecure             accept a self-signed certificate (HAProxy's dev cert)
  --help                 print this and exit
Run it with EVENTLY_RATE_LIMITS=off on the edges, or the limits answer 429s.`;

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    'admin-email': { type: 'string', default: 'admin@evently.local' },
    'admin-password': { type: 'string', default: 'evently-admin' },
    insecure: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const fail = (msg: string): never => {
  console.error(`load: ${msg}\n\n${usage}`);
  process.exit(2);
};
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const base = values.url ?? fail('--url is required');
const duration = Number(values.duration);
const connections = Number(values.connections);
if (!(duration > 0) || !Number.isInteger(connections) || connections < 1)
  fail('--duration and --connections must be positive numbers');
const scenarios = (values.scenario?.split(',') ?? [...LOAD_SCENARIOS]) as LoadScenario[];
for (const s of scenarios) if (!LOAD_SCENARIOS.includes(s)) fail(`unknown scenario "${s}"`);
// The dev certificate is self-signed; fetch and autocannon both go through Node's TLS.
if (values.insecure) process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

async function adminToken(): Promise<string> {
  const res = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: values['admin-email'], password: values['admin-password'] }),
  });
  const body = (await res.json()) as { token?: string };
  return body.token ?? fail(`admin sign-in at ${base} failed: ${res.status} ${JSON.stringify(body)}`);
}

const rows: { scenario: LoadScenario; m: Measurement; check: string }[] = [];
const token = await adminToken();
for (const scenario of scenarios) {
  const scene = await setScene(base, token, scenario, connections);
  const { describe, requests } = plan(scenario, scene);
  console.error(`${scenario}: ${describe} (${connections} connections, ${duration} s)`);
  let next = 0;
  const headers = { 'content-type': 'application/json' };
  const result = await autocannon({
    url: base,
    connections,
    duration,
    timeout: 10,
    requests: requests().map((r) => ({ ...r, headers })),
    // Each connection is one user: its own copy of the requests, carrying its token.
    setupClient:
      scene.tokens.length === 0
        ? undefined
        : (client) => {
            const authorization = `Bearer ${scene.tokens[next++ % scene.tokens.length]}`;
            client.setRequests(requests().map((r) => ({ ...r, headers: { ...headers, authorization } })));
          },
  });
  rows.push({ scenario, m: summarise(result), check: await checkThroughApi(base, scenario, scene, connections) });
}

const num = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`\n${base}, ${connections} connections, ${duration} s per scenario\n`);
console.log(
  '| scenario | requests | req/s | p50 ms | p97.5 ms | p99 ms | responses by status | errors / timeouts | check |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |');
for (const { scenario, m, check } of rows) {
  const statuses = Object.entries(m.statuses)
    .map(([code, n]) => `${code}: ${num(n)}`)
    .join(', ');
  console.log(
    `| ${scenario} | ${num(m.requests)} | ${num(m.reqPerSec)} | ${m.p50} | ${m.p975} | ${m.p99} | ${statuses} | ${m.errors} / ${m.timeouts} | ${check} |`,
  );
}
process.exit(rows.some((r) => r.check.includes('**')) ? 1 : 0);
