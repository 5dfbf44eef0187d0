// `node dist/ops/compose/check.js`: validates the docker-compose deployment
// files with the tools that run without a container engine.
import { readdir } from 'node:fs/promises';
import { ROOT, checkDashboard, runToolCheck, toolChecks, uncheckable } from './checks.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`usage: node dist/ops/compose/check.js [--help]

Validates the deployment without a Docker engine:
${toolChecks.map((c) => `  ${c.label}`).join('\n')}
  ops/monitoring/grafana/dashboards/*.json (parsed; panels query Prometheus; topics covered)
A missing tool is installed with apt-get when run as root; otherwise its checks
are reported as skipped with the install command. Exits 1 if a check failed.`);
  process.exit(0);
}

let failed = false;
for (const check of toolChecks) {
  const result = await runToolCheck(check, (msg) => console.log(`         ${msg}`));
  if (result.outcome === 'ok') console.log(`ok       ${check.label}`);
  else if (result.outcome === 'skipped') console.log(`skipped  ${check.label}: ${result.reason}`);
  else {
    failed = true;
    console.log(`FAILED   ${check.label}\n${result.output.replace(/^/gm, '         ')}`);
  }
}
const dir = 'ops/monitoring/grafana/dashboards';
for (const file of (await readdir(`${ROOT}/${dir}`)).filter((f) => f.endsWith('.json'))) {
  const problems = await checkDashboard(`${dir}/${file}`);
  failed ||= problems.length > 0;
  console.log(problems.length ? `FAILED   ${dir}/${file}: ${problems.join('; ')}` : `ok       ${dir}/${file}`);
}
for (const what of uncheckable) console.log(`not checked  ${what}`);
console.log(failed ? 'check: some checks failed' : 'check: every check that could run passed');
process.exit(failed ? 1 : 0);
