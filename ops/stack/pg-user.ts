import { execFile } from 'node:child_process';
import { chown, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { StackError } from './errors.js';

export interface RunAs {
  uid: number;
  gid: number;
}

const execFileAsync = promisify(execFile);

async function idOf(flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await execFileAsync('id', [flag, 'postgres']);
  return Number(stdout.trim());
}

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` system user (created
 * by Debian's postgresql package); otherwise as ourselves, which needs nothing special.
 */
export async function postgresRunAs(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: await idOf('-u'), gid: await idOf('-g') };
  } catch {
    throw new StackError(
      'Running as root, PostgreSQL must run as the "postgres" user, and there is none. ' +
        'Create it with:\n  useradd --system --home-dir /var/lib/postgresql postgres\n' +
        'or install PostgreSQL, which creates it:\n  apt-get install -y postgresql',
    );
  }
}

function canTraverse(user: RunAs, mode: number, owner: number, group: number): boolean {
  if (owner === user.uid) return (mode & 0o100) !== 0;
  if (group === user.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/**
 * The postgres user needs to walk down to its folders, and a root-created data dir (fs.mkdtemp
 * makes 0700 folders) often stops it at the first step, with an obscure "permission denied"
 * from initdb. Checking up front lets us name the folder and the fix.
 */
async function assertTraversable(user: RunAs, from: string): Promise<void> {
  for (let dir = from; ; dir = dirname(dir)) {
    const st = await stat(dir);
    if (!canTraverse(user, st.mode, st.uid, st.gid)) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new StackError(
        `PostgreSQL runs as the "postgres" user (we are root), which cannot enter ${dir} ` +
          `(mode ${mode}, owner uid ${st.uid}). Make it traversable:\n  chmod o+x ${dir}\n` +
          'or choose a data dir whose parent folders all are (e.g. under /tmp or /var/tmp).',
      );
    }
    if (dir === dirname(dir)) return;
  }
}

/**
 * Hands the folders PostgreSQL writes to over to the user it runs as. Only the top folders: an
 * existing cluster already belongs to that user, because it created every file in it.
 */
export async function handOver(user: RunAs | undefined, dirs: string[]): Promise<void> {
  if (!user) return;
  for (const dir of dirs) {
    await chown(dir, user.uid, user.gid);
    await assertTraversable(user, dirname(dir));
  }
}
