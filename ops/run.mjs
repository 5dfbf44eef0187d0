#!/usr/bin/env node
// The two commands of the README, made to work from a clean clone: install
// the pinned dependencies if they are missing or stale, compile TypeScript
// to dist/ when the sources changed since the last build, then start the
// system, run every test, or run the benchmark.
// Plain JavaScript with no dependencies, because it runs before npm ci.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfChanged } from './fresh-build.mjs';

const launchedAt = Date.now();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);

const usage = `usage: node ops/run.mjs <start|test|unit|bench> [args]
  start   install deps if needed, build, start the embedded system (npm start)
  test    install deps if needed, build, run every test (npm test)
  unit    install deps if needed, build, run only the unit tests, *.unit.test.ts: no servers, seconds (npm run test:unit)
  bench   install deps if needed, build, run ops/bench (npm run bench -- --help)`;

if (!['start', 'test', 'unit', 'bench'].includes(command)) {
  console.log(usage);
  process.exit(command === '--help' || command === '-h' ? 0 : 2);
}

function run(cmd, argv, what) {
  const result = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`evently: ${what} failed (${cmd} ${argv.join(' ')} exited ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function depsAreCurrent() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  return existsSync(marker) && statSync(marker).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs;
}

if (!depsAreCurrent()) {
  console.error('evently: installing the pinned dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund'], 'dependency install');
}
const build = buildIfChanged(root, () => {
  console.error('evently: sources changed since the last build; compiling TypeScript to dist/');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], 'build');
});
console.error(
  build.built
    ? `evently: built in ${((Date.now() - launchedAt) / 1000).toFixed(1)} s${build.orphans ? ` (${build.orphans} files of deleted sources removed from dist/)` : ''}`
    : 'evently: dist/ is up to date with the sources; no build',
);

function findTests(dir, suffix) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

function forward(child) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (command === 'test' || command === 'unit') {
  // Unit tests are named *.unit.test.ts: they start no server and touch no network, so they run in seconds.
  const suffix = command === 'unit' ? '.unit.test.js' : '.test.js';
  const files = ['protocol', 'platform', 'actors', 'edge', 'supervisor', 'ops']
    .flatMap((top) => {
      const dir = join(root, 'dist', top);
      return existsSync(dir) ? findTests(dir, suffix) : [];
    })
    .sort();
  // Integration files each start their own servers, on ports and in folders of their own, so they may
  // overlap: EVENTLY_TEST_CONCURRENCY files at once (default 2; the tests wait for states, not for times,
  // and CI proves it beside a CPU hog). Unit files share the machine.
  const filesAtOnce = process.env.EVENTLY_TEST_CONCURRENCY ?? '2';
  if (!/^[1-9][0-9]?$/.test(filesAtOnce)) {
    console.error(`EVENTLY_TEST_CONCURRENCY must be a whole number from 1 to 99, not "${filesAtOnce}"`);
    process.exit(2);
  }
  const concurrency = command === 'unit' ? [] : [`--test-concurrency=${filesAtOnce}`];
  forward(spawn(process.execPath, ['--test', ...concurrency, ...args, ...files], { cwd: root, stdio: 'inherit' }));
} else {
  const entry = command === 'start' ? 'dist/ops/start.js' : 'dist/ops/bench/index.js';
  // start.ts prints the time to ready counted from here, build included.
  const launch = command === 'start' ? [`--launched-at=${launchedAt}`] : [];
  forward(spawn(process.execPath, [join(root, entry), ...launch, ...args], { cwd: root, stdio: 'inherit' }));
}
