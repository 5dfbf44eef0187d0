// Registering an account: the one use case where a burst of anonymous
// callers meets a deliberately slow KDF. Three things make it safe to retry
// and quick to refuse:
// - back-pressure: when the hashes already waiting would not finish within
//   the share of the broker timeout given here, the caller is told at once
//   (503 UNAVAILABLE with retry-after) rather than after the edge gave up
//   (504) while the work went on;
// - idempotency: an anonymous caller has no user id, so the key's scope is a
//   UUID derived from the email; the same Idempotency-Key with the same email
//   returns the first outcome, never EMAIL_TAKEN for the caller's own
//   earlier attempt. The request hash covers email and name only: a hash of
//   the password would be an unsalted copy of it in the database. The
//   password of a replay is checked against the account's scrypt hash instead.
// - the hash runs before the transaction, so no connection waits on a KDF.
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { refuse, type CallContext, type Outcome, type Register, type User } from '../protocol/index.js';
import { claimKeys, findKey, requestHash, storeOutcomes, type KeyedRequest } from '../runtime/idempotency.js';
import { insertAccount, passwordHashOf } from './accounts.js';
import type { Hasher } from './hasher.js';
import { hashPassword, verifyPassword } from './password.js';

const OPERATION = 'accounts.register';
/** Half the broker timeout for the hashes ahead: the rest covers Postgres, the broker and a misjudged estimate. */
export const WAIT_SHARE = 0.5;

export interface RegisterDeps {
  pool: Pool;
  hasher: Hasher;
  cost: number;
  brokerTimeoutMs: number;
}

const canonicalEmail = (email: string) => email.trim().toLowerCase();

/** A name-based UUID (version 8 layout) for the email: the anonymous caller's scope for its keys. */
export function emailScope(email: string): string {
  const b = createHash('sha256').update(`${OPERATION}\0${canonicalEmail(email)}`).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function keyOf(req: Register, key: string): KeyedRequest {
  return { userId: emailScope(req.email), key, hash: requestHash(OPERATION, { email: canonicalEmail(req.email), name: req.name }) };
}

/** Null when the queue has room; else the refusal, with the seconds after which it will. */
export function overloaded(hasher: Hasher, budgetMs: number): Outcome<never> | null {
  // A free thread always takes the work: waiting cannot make a lone hash faster, and refusing
  // everything would also stop the estimate from ever learning that the machine got quiet.
  if (hasher.waiting() < hasher.threads) return null;
  const wait = hasher.expectedWaitMs();
  if (wait <= budgetMs) return null;
  const retryAfter = Math.max(1, Math.ceil((wait - budgetMs) / 1000));
  return refuse('UNAVAILABLE', `${hasher.waiting()} sign-ups are being hashed (about ${Math.round(hasher.averageHashMs())} ms each); retry in ${retryAfter} s`, retryAfter);
}

/** The first outcome of this key, if the password matches the account it created. */
async function replay(deps: RegisterDeps, outcome: Outcome<unknown>, password: string): Promise<Outcome<User>> {
  if (!outcome.ok) return outcome;
  const user = outcome.value as User;
  const stored = await passwordHashOf(deps.pool, user.id);
  if (stored && await verifyPassword(password, stored, deps.hasher.derive)) return outcome as Outcome<User>;
  return refuse('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request');
}

export async function register(deps: RegisterDeps, req: Register, ctx: CallContext): Promise<Outcome<User>> {
  const full = overloaded(deps.hasher, deps.brokerTimeoutMs * WAIT_SHARE);
  if (full) return full;
  const key = ctx.idempotencyKey ? keyOf(req, ctx.idempotencyKey) : undefined;
  if (key) {
    const prior = await findKey(deps.pool, key);
    if (prior && prior.hash !== key.hash) return refuse('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request');
    if (prior?.outcome) return replay(deps, prior.outcome, req.password);
  }
  const passwordHash = await hashPassword(req.password, deps.cost, deps.hasher.derive);
  if (!key) return insertAccount(deps.pool, req, passwordHash);
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    // Claimed first: a concurrent attempt with this key waits here until this one commits, then replays it.
    const [prior] = await claimKeys(client, [key]);
    if (prior) {
      await client.query('ROLLBACK');
      return replay(deps, prior, req.password);
    }
    const outcome = await insertAccount(client, req, passwordHash);
    await storeOutcomes(client, [{ req: key, outcome }]);
    await client.query('COMMIT');
    return outcome;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
