// Builds dist/ only when the sources changed since the last build: a restart
// of an unchanged checkout skips a compile that costs tens of seconds on a
// busy machine. The last build's fingerprint (a hash of every source file's
// path and content, tsconfig.json and the lock file) is kept in dist/; a
// compiled file whose source is gone is deleted, so a deleted test cannot
// live on in dist/ and run. Plain JavaScript: it runs before the compile.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SOURCE_DIRS = ['protocol', 'platform', 'actors', 'edge', 'supervisor', 'ops'];
const STAMP = '.sources-sha256';

function walk(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path, keep);
    return keep(entry.name) ? [path] : [];
  });
}

const isSource = (name) => name.endsWith('.ts') && !name.endsWith('.d.ts');

/** One hash over what the compile reads; any edit, new file or deleted file changes it. */
export function sourcesFingerprint(root) {
  const hash = createHash('sha256');
  const files = SOURCE_DIRS.flatMap((top) => walk(join(root, top), isSource)).sort();
  for (const file of [...files, join(root, 'tsconfig.json'), join(root, 'package-lock.json')]) {
    hash.update(relative(root, file)).update('\0');
    if (existsSync(file)) hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Deletes compiled files (and their maps) whose TypeScript source no longer exists; returns how many. */
export function removeOrphans(root) {
  const dist = join(root, 'dist');
  let removed = 0;
  for (const top of SOURCE_DIRS) {
    for (const file of walk(join(dist, top), (name) => name.endsWith('.js') || name.endsWith('.js.map'))) {
      const source = join(root, relative(dist, file)).replace(/\.js(\.map)?$/, '.ts');
      if (!existsSync(source)) {
        rmSync(file);
        removed++;
      }
    }
  }
  return removed;
}

/**
 * Compiles with `compile()` unless dist/ was built from exactly these sources.
 * Returns what it did, for the caller to print.
 */
export function buildIfChanged(root, compile) {
  const stamp = join(root, 'dist', STAMP);
  const fingerprint = sourcesFingerprint(root);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === fingerprint) return { built: false, orphans: 0 };
  // No stamp while compiling: an interrupted or failed build is never taken for a good one.
  rmSync(stamp, { force: true });
  const orphans = removeOrphans(root);
  compile();
  writeFileSync(stamp, `${fingerprint}\n`);
  return { built: true, orphans };
}
