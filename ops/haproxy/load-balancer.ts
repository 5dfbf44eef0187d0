// Debian's haproxy on loopback, running the repository's haproxy.cfg in front
// of edges given by address: what the HAProxy test and `ops/haproxy/cli.ts`
// start. It is the same file docker-compose runs; only the listeners, the
// certificate and the edge addresses come from the environment.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveTool } from '../stack/binaries.js';
import { freePorts, httpOk, waitReady } from '../stack/probes.js';
import { STOP_TIMEOUT_MS, spawnServer } from '../stack/processes.js';

export const HAPROXY_CFG = fileURLToPath(new URL('../../../haproxy.cfg', import.meta.url));
const DEV_CERT = fileURLToPath(new URL('../../../ops/tls/dev-cert.sh', import.meta.url));
/** haproxy.cfg names three edges; slots without an edge are disabled. */
const EDGE_SLOTS = 3;

export interface LoadBalancerOptions {
  /** host:port of each edge, 1 to 3. */
  edges: readonly string[];
  /** Scratch folder for the certificate and the log. */
  dir: string;
  httpPort?: number;
  httpsPort?: number;
  statsPort?: number;
  log?: (msg: string) => void;
}

export interface LoadBalancer {
  readonly url: string;
  readonly httpsUrl: string;
  readonly statsUrl: string;
  /** The self-signed certificate clients must trust for httpsUrl. */
  readonly caFile: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Writes a development certificate with ops/tls/dev-cert.sh; returns the folder's PEM and CRT paths. */
export async function devCertificate(dir: string): Promise<{ pem: string; crt: string }> {
  await promisify(execFile)('bash', [DEV_CERT, '--out', dir]);
  return { pem: join(dir, 'evently.pem'), crt: join(dir, 'evently.crt') };
}

export async function startLoadBalancer(o: LoadBalancerOptions): Promise<LoadBalancer> {
  if (o.edges.length < 1 || o.edges.length > EDGE_SLOTS)
    throw new Error(`1 to ${EDGE_SLOTS} edges, got ${o.edges.length}`);
  const log = o.log ?? ((msg: string) => process.stderr.write(`[haproxy] ${msg}\n`));
  const haproxy = await resolveTool('haproxy', 'haproxy', join(o.dir, 'apt.log'), log);
  const cert = await devCertificate(o.dir);
  const [http, https, stats] = await freePorts(3);
  const ports = { http: o.httpPort || http, https: o.httpsPort || https, stats: o.statsPort || stats };
  const slots: Record<string, string> = {};
  const [firstEdge] = o.edges;
  if (firstEdge === undefined) throw new Error('the load balancer needs at least one edge');
  for (let i = 0; i < EDGE_SLOTS; i++) {
    slots[`LB_EDGE${i + 1}`] = o.edges[i] ?? firstEdge;
    slots[`LB_EDGE${i + 1}_STATE`] = i < o.edges.length ? 'enabled' : 'disabled';
  }
  const proc = await spawnServer({
    name: 'haproxy',
    command: haproxy,
    // -db: stay in the foreground, so the PID we hold is HAProxy's own.
    args: ['-db', '-f', HAPROXY_CFG],
    logFile: join(o.dir, 'haproxy.log'),
    env: {
      PATH: process.env['PATH'],
      LB_HTTP_BIND: `127.0.0.1:${ports.http}`,
      LB_HTTPS_BIND: `127.0.0.1:${ports.https}`,
      LB_STATS_BIND: `127.0.0.1:${ports.stats}`,
      LB_TLS_CERT: cert.pem,
      LB_MAXCONN: '2000',
      ...slots,
    },
  });
  const statsUrl = `http://127.0.0.1:${ports.stats}`;
  try {
    await waitReady(proc, () => httpOk(`${statsUrl}/healthz`), 120_000);
  } catch (err) {
    await proc.stop('SIGKILL', STOP_TIMEOUT_MS);
    throw err;
  }
  return {
    url: `http://127.0.0.1:${ports.http}`,
    httpsUrl: `https://127.0.0.1:${ports.https}`,
    statsUrl,
    caFile: cert.crt,
    pid: proc.pid,
    // SIGUSR1 is HAProxy's soft stop: it finishes the connections it has.
    stop: () => proc.stop('SIGUSR1', 5_000),
  };
}
