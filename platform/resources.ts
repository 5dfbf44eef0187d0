// Connections an actor thread opens for itself. Each thread has its own
// pool: threads share nothing but the servers.
import pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { assertMayCommit } from './lease-deadlines.js';
import type { Logger } from './logger.js';

export function openPostgres(config: Config, log: Logger, max = 10): pg.Pool {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set');
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the thread.
  pool.on('error', (err) => log.warn({ err }, 'postgres idle client error'));
  return pool;
}

export function openRedis(config: Config, log: Logger): Redis {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set');
  const redis = new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', (err) => log.warn({ err }, 'redis error'));
  return redis;
}

/** Runs fn in a transaction on one client, rolling back on any error; `begin` may name an isolation level. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await fn(client);
    // In an actor thread serving shards under leases: not past their deadline (lease-deadlines.ts).
    assertMayCommit();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A client that cannot even roll back is discarded, not returned to the pool.
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
