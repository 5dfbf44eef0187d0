// `node dist/ops/haproxy/cli.js --edge HOST:PORT ...`: the repository's
// haproxy.cfg on loopback in front of running edges, until Ctrl-C.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLoadBalancer } from './load-balancer.js';

const usage = `usage: node dist/ops/haproxy/cli.js --edge HOST:PORT [--edge HOST:PORT ...] [options]

Runs Debian's haproxy (installed with apt-get when missing and run as root) with
the repository's haproxy.cfg on 127.0.0.1, in front of 1 to 3 running edges,
with a fresh self-signed certificate (ops/tls/dev-cert.sh). Ctrl-C stops it.

  --edge HOST:PORT   an edge (repeat for up to 3)
  --port N           plain HTTP listener (default: a free port)
  --tls-port N       TLS listener (default: a free port)
  --stats-port N     stats page, /metrics, /healthz (default: a free port)
  --help             this text`;

const { values } = parseArgs({
  options: {
    edge: { type: 'string', multiple: true, default: [] },
    port: { type: 'string' },
    'tls-port': { type: 'string' },
    'stats-port': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || values.edge.length === 0) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}

const dir = await mkdtemp(join(tmpdir(), 'evently-haproxy-'));
const lb = await startLoadBalancer({
  edges: values.edge,
  dir,
  httpPort: Number(values.port ?? 0),
  httpsPort: Number(values['tls-port'] ?? 0),
  statsPort: Number(values['stats-port'] ?? 0),
  log: (msg) => console.error(msg),
});
console.log(`HAProxy (PID ${lb.pid}) in front of ${values.edge.join(', ')}
  HTTP   ${lb.url}
  HTTPS  ${lb.httpsUrl}   (trust ${lb.caFile})
  stats  ${lb.statsUrl}/stats   metrics ${lb.statsUrl}/metrics
  log    ${join(dir, 'haproxy.log')}`);
const stop = async () => {
  await lb.stop();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
