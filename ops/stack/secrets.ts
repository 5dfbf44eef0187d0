// Credentials of the embedded servers, generated once into <dataDir>/secrets
// (a folder only its owner can enter, files only its owner can read), so
// they survive restarts and a persistent data folder keeps working. Rotating
// one: stop, delete its file (or write a new value into it), start again; see
// docs/security.md.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const secretsDir = (dataDir: string): string => join(dataDir, 'secrets');

/** The secret in <dataDir>/secrets/<name>, created (32 random bytes, base64url) if missing. */
export async function secretIn(dataDir: string, name: string): Promise<string> {
  const dir = secretsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = join(dir, name);
  try {
    const value = (await readFile(file, 'utf8')).trim();
    if (value) return value;
  } catch {
    // not made yet
  }
  const value = randomBytes(32).toString('base64url');
  // 'wx': two processes starting on one folder never overwrite each other's secret.
  await writeFile(file, value, { mode: 0o600, flag: 'wx' }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  });
  return (await readFile(file, 'utf8')).trim();
}
