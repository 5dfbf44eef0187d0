// The docker-compose deployment validated with the tools that run without a
// container engine (see checks.ts). A tool that cannot be installed here
// skips its check, saying which and why, rather than passing it.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { ROOT, checkDashboard, runToolCheck, toolChecks, uncheckable } from './checks.js';

for (const check of toolChecks) {
  test(`when ${check.label} is checked, then it is valid`, async (t) => {
    const result = await runToolCheck(check, (msg) => t.diagnostic(msg));
    if (result.outcome === 'skipped') {
      t.skip(result.reason);
      return;
    }
    assert.equal(result.outcome, 'ok', result.outcome === 'failed' ? result.output : '');
  });
}

test('when the Grafana dashboards are read, then each is valid JSON on the provisioned data source covering every topic', async (t) => {
  const dir = 'ops/monitoring/grafana/dashboards';
  const files = (await readdir(`${ROOT}/${dir}`)).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 0);
  for (const file of files) assert.deepEqual(await checkDashboard(`${dir}/${file}`), [], file);
  for (const what of uncheckable) t.diagnostic(`not checked: ${what}`);
});
