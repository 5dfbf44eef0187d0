// The deployment files, validated without a container engine: each check is
// a Debian tool run over one file. The test (compose.test.ts) and the script
// (check.ts) both run this list; a missing tool is installed with apt-get
// when running as root, otherwise its checks are skipped by name.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { devCertificate } from '../haproxy/load-balancer.js';
import { resolveTool } from '../stack/binaries.js';
import { ROOT } from './root.js';
import { natsAuthConf } from './secrets.js';

export { ROOT };
const MONITORING = 'ops/monitoring';

export interface ToolCheck {
  label: string;
  tool: string;
  debianPackage: string;
  args: string[];
  /** Environment the check needs beyond PATH. */
  env?: (scratch: string) => Promise<Record<string, string>>;
  /** Arguments that need files made in the scratch folder first (instead of args). */
  argsIn?: (scratch: string) => Promise<string[]>;
}

/**
 * A NATS node's config as the cluster reads it: beside nats-common.conf and the
 * auth.conf secret, here one generated for the check (throw-away passwords).
 */
async function natsNode(n: number, scratch: string): Promise<string[]> {
  for (const file of [`nats-${n}.conf`, 'nats-common.conf'])
    await copyFile(join(ROOT, 'ops/compose', file), join(scratch, file));
  await writeFile(
    join(scratch, 'auth.conf'),
    natsAuthConf({ edge: 'check-edge', actors: 'check-actors', supervisor: 'check-supervisor' }),
  );
  return ['-t', '-c', join(scratch, `nats-${n}.conf`)];
}

export const toolChecks: ToolCheck[] = [
  {
    label: 'docker-compose.yml (docker-compose config -q)',
    tool: 'docker-compose',
    debianPackage: 'docker-compose',
    args: ['-f', 'docker-compose.yml', 'config', '-q'],
  },
  {
    label: 'haproxy.cfg (haproxy -c)',
    tool: 'haproxy',
    debianPackage: 'haproxy',
    args: ['-c', '-f', 'haproxy.cfg'],
    // -c opens the certificate; the compose one is made on the host by ops/tls/dev-cert.sh.
    env: async (scratch) => ({ LB_TLS_CERT: (await devCertificate(scratch)).pem }),
  },
  {
    label: 'prometheus.yml (promtool check config)',
    tool: 'promtool',
    debianPackage: 'prometheus',
    args: ['check', 'config', 'ops/prometheus.yml'],
  },
  {
    label: 'alerts.yml (promtool check rules)',
    tool: 'promtool',
    debianPackage: 'prometheus',
    args: ['check', 'rules', `${MONITORING}/alerts.yml`],
  },
  {
    label: 'alerts.test.yml (promtool test rules)',
    tool: 'promtool',
    debianPackage: 'prometheus',
    args: ['test', 'rules', `${MONITORING}/alerts.test.yml`],
  },
  {
    label: 'alertmanager.yml (amtool check-config)',
    tool: 'amtool',
    debianPackage: 'prometheus-alertmanager',
    args: ['check-config', `${MONITORING}/alertmanager.yml`],
  },
  ...[1, 2, 3].map((n) => ({
    label: `nats-${n}.conf (nats-server -t)`,
    tool: 'nats-server',
    debianPackage: 'nats-server',
    args: [],
    argsIn: (scratch: string) => natsNode(n, scratch),
  })),
];

/** Not checkable here: named so a reader knows, rather than silently passed. */
export const uncheckable = [
  'ops/logging/fluent-bit.conf (Fluent Bit is not packaged in Debian 12; checked only when the stack runs)',
];

export type CheckResult =
  { outcome: 'ok' } | { outcome: 'failed'; output: string } | { outcome: 'skipped'; reason: string };

export async function runToolCheck(
  check: ToolCheck,
  log: (msg: string) => void = () => undefined,
): Promise<CheckResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'evently-check-'));
  try {
    let binary: string;
    try {
      binary = await resolveTool(check.tool, check.debianPackage, join(scratch, 'apt.log'), log);
    } catch (err) {
      return { outcome: 'skipped', reason: (err as Error).message };
    }
    const env = { PATH: process.env['PATH'] ?? '', ...(await check.env?.(scratch)) };
    try {
      await promisify(execFile)(binary, check.argsIn ? await check.argsIn(scratch) : check.args, { cwd: ROOT, env });
      return { outcome: 'ok' };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      return { outcome: 'failed', output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What the dashboards must show (issue 7): each needs a panel whose title names it. */
export const DASHBOARD_TOPICS = ['booking', 'latency', 'error', 'pool', 'invariant', 'lag'];

/** Grafana dashboards: valid JSON, every panel queries the provisioned data source, every topic covered. */
export async function checkDashboard(file: string): Promise<string[]> {
  const problems: string[] = [];
  const dashboard = JSON.parse(await readFile(join(ROOT, file), 'utf8')) as {
    uid?: string;
    panels?: { title: string; targets?: { expr?: string; datasource?: { uid?: string } }[] }[];
  };
  if (!dashboard.uid) problems.push('no uid');
  const panels = dashboard.panels ?? [];
  for (const p of panels) {
    if (!p.targets?.length || p.targets.some((t) => !t.expr))
      problems.push(`panel "${p.title}" has a target without a query`);
    if (p.targets?.some((t) => t.datasource?.uid !== 'prometheus'))
      problems.push(`panel "${p.title}" does not use the provisioned data source`);
  }
  for (const topic of DASHBOARD_TOPICS) {
    if (!panels.some((p) => p.title.toLowerCase().includes(topic))) problems.push(`no panel about ${topic}`);
  }
  return problems;
}
