// ops/fresh-build.mjs, which `npm start` and `npm test` use to skip a compile
// when nothing changed: on a throw-away source tree with a stand-in compiler
// that writes one .js per .ts, as tsc does.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';

// Plain JavaScript beside the sources (it runs before any compile), so it is reached from dist/ by path.
const { buildIfChanged } = (await import(new URL('../../../ops/fresh-build.mjs', import.meta.url).href)) as {
  buildIfChanged(root: string, compile: () => void): { built: boolean; orphans: number };
};

const root = mkdtempSync(join(tmpdir(), 'evently-fresh-build-'));
after(() => rmSync(root, { recursive: true, force: true }));
const write = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
let compiles = 0;
const compile = () => {
  compiles++;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  for (const file of walk(join(root, 'actors')).filter((f) => f.endsWith('.ts'))) {
    write(join('dist', relative(root, file)).replace(/\.ts$/, '.js'), '// compiled');
    write(join('dist', relative(root, file)).replace(/\.ts$/, '.js.map'), '{}');
  }
};

write('tsconfig.json', '{}');
write('package-lock.json', '{}');
write('actors/a.ts', 'export const a = 1;');
write('actors/a.test.ts', 'export {};');

test('when nothing was built yet, then it compiles', () => {
  assert.deepEqual(buildIfChanged(root, compile), { built: true, orphans: 0 });
  assert.equal(compiles, 1);
});

test('when the sources are unchanged since the last build, then it does not compile again', () => {
  assert.deepEqual(buildIfChanged(root, compile), { built: false, orphans: 0 });
  assert.equal(compiles, 1);
});

test('when a source changes, then it compiles again, and then not again', () => {
  write('actors/a.ts', 'export const a = 2;');
  assert.equal(buildIfChanged(root, compile).built, true);
  assert.equal(buildIfChanged(root, compile).built, false);
  assert.equal(compiles, 2);
});

test('when a source file is deleted, then its compiled file and map leave dist/ and cannot run as a stale test', () => {
  rmSync(join(root, 'actors/a.test.ts'));
  assert.deepEqual(buildIfChanged(root, compile), { built: true, orphans: 2 });
  assert.equal(existsSync(join(root, 'dist/actors/a.test.js')), false);
  assert.equal(existsSync(join(root, 'dist/actors/a.test.js.map')), false);
  assert.equal(existsSync(join(root, 'dist/actors/a.js')), true);
});

test('when a compile fails, then the next run compiles again instead of trusting a half-built dist/', () => {
  write('actors/b.ts', 'export const b = 1;');
  assert.throws(
    () =>
      buildIfChanged(root, () => {
        throw new Error('tsc failed');
      }),
    /tsc failed/,
  );
  assert.equal(buildIfChanged(root, compile).built, true);
});
