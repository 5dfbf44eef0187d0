// The identity actor: accounts and passwords. It answers the `identity`
// operations of the protocol (register, login, the account state the edge
// checks tokens against, the admin's user list, status and role, ping); the
// edge signs tokens for the users it returns. Hashing runs on the actor's
// own low-priority hashing threads (hasher.ts), so neither an edge's event
// loop nor this thread's ever waits for a KDF: this thread stays free to
// take requests and to refuse at once the sign-ups that could not finish
// in time. It runs at normal priority because a client waits for it.
import { threadId } from 'node:worker_threads';
import { ok } from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { openPostgres } from '../../platform/resources.js';
import { login } from './accounts.js';
import { accountState, accountStates, listUsers, setRole, setStatus } from './admin-users.js';
import { Hasher } from './hasher.js';
import { register } from './register.js';

export const start: StartActor = async ({ config, log, nc }) => {
  const hasher = await Hasher.start(config.kdfThreads, config.kdfCost, config.identityNice, log);
  const pool = openPostgres(config, log, 4);
  const deps = { pool, hasher, cost: config.kdfCost, brokerTimeoutMs: config.brokerTimeoutMs };
  return {
    handlers: {
      'accounts.register': (req, ctx, meta) => register(deps, req, ctx, meta.log),
      'accounts.login': (req) => login(pool, req, config.kdfCost, hasher.derive),
      'accounts.states': (req) => accountStates(pool, req),
      'accounts.state': (req) => accountState(pool, req),
      'accounts.list': (req, ctx) => listUsers(pool, req, ctx),
      'accounts.status': (req, ctx) => setStatus(pool, nc, req, ctx),
      'accounts.role': (req, ctx) => setRole(pool, nc, req, ctx),
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
