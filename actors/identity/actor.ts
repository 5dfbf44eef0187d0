// The identity actor: accounts and passwords. It answers the `identity`
// operations of the protocol (accounts.register, accounts.login, ping); the
// edge signs tokens for the users it returns. Hashing runs here, in a worker
// thread, so no edge event loop ever waits for a KDF.
import { setPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { ok } from '../protocol/index.js';
import type { StartActor } from '../runtime/actor.js';
import { openPostgres } from '../runtime/resources.js';
import { login, register } from './accounts.js';

export const start: StartActor = async ({ config, log }) => {
  // On Linux a nice value belongs to the thread, so this lowers only this
  // actor's thread: under load the scheduler prefers the booking path.
  try {
    if (config.identityNice > 0) setPriority(0, config.identityNice);
  } catch (err) {
    log.warn({ err }, 'could not lower the identity thread priority; hashing competes with bookings for CPU');
  }
  const pool = openPostgres(config, log, 4);
  return {
    handlers: {
      'accounts.register': (req) => register(pool, req, config.kdfCost),
      'accounts.login': (req) => login(pool, req, config.kdfCost),
      ping: async () => {
        await pool.query('SELECT 1');
        return ok({ kind: 'identity', shard: null, thread: threadId });
      },
    },
    stop: () => pool.end(),
  };
};
