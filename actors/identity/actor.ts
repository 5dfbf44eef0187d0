// The identity actor: accounts and passwords. It answers the `identity`
// operations of the protocol (accounts.register, accounts.login, ping); the
// edge signs tokens for the users it returns. Hashing runs on the actor's
// own low-priority hashing threads (hasher.ts), so neither an edge's event
// loop nor this thread's ever waits for a KDF: this thread stays free to
// take requests and to refuse at once the sign-ups that could not finish
// in time. It runs at normal priority because a client waits for it.
import { threadId } from 'node:worker_threads';
import { ok } from '../protocol/index.js';
import type { StartActor } from '../runtime/actor.js';
import { openPostgres } from '../runtime/resources.js';
import { login } from './accounts.js';
import { Hasher } from './hasher.js';
import { register } from './register.js';

export const start: StartActor = async ({ config, log }) => {
  const hasher = await Hasher.start(config.kdfThreads, config.kdfCost, log);
  const pool = openPostgres(config, log, 4);
  const deps = { pool, hasher, cost: config.kdfCost, brokerTimeoutMs: config.brokerTimeoutMs };
  return {
    handlers: {
      'accounts.register': (req, ctx, meta) => register(deps, req, ctx, meta.log),
      'accounts.login': (req) => login(pool, req, config.kdfCost, hasher.derive),
      ping: async () => {
        await pool.query('SELECT 1');
        return ok({ kind: 'identity', shard: null, thread: threadId });
      },
    },
    stop: async () => {
      await pool.end();
      await hasher.close();
    },
  };
};
