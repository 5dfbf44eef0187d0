// Versioned SQL migrations from ops/migrations, applied with node-pg-migrate
// (which holds an advisory lock, so two supervisors starting together are safe).
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../platform/logger.js';

// Compiled code runs from dist/supervisor; the SQL files stay in the source tree.
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../ops/migrations', import.meta.url));

export async function migrate(databaseUrl: string, log: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    log: (msg: string) => log.debug(msg),
  });
  log.info({ applied: applied.map((m) => m.name) }, applied.length ? 'migrations applied' : 'schema up to date');
}
