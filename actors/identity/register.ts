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
import { identity, refuse, type CallContext, type Outcome, type Register, type Session } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import { claimKeys, findKey, requestHash, storeOutcomes, type KeyedRequest } from '../../platform/idempotency.js';
import { insertAccount, passwordHashOf } from './accounts.js';
import { TooLate, type Hasher } from './hasher.js';
import { hashPassword, verifyPassword, type Derive } from './password.js';

const OPERATION = identity.register;
/** Admitted when the hashes ahead end within half the broker timeout: the rest covers Postgres, the broker and a misjudged estimate. */
export const WAIT_SHARE = 0.5;
/** An admitted sign-up whose hash could not start early enough to end within this share is refused when its turn comes. */
export const FINISH_SHARE = 0.8;

export interface RegisterDeps {
  pool: Pool;
  hasher: Hasher;
  cost: number;
  brokerTimeoutMs: number;
}

const canonicalEmail = (email: string) => email.trim().toLowerCase();

/** A name-based UUID (version 8 layout) for the email: the anonymous caller's scope for its keys. */
export function emailScope(email: string): string {
  const b = createHash('sha256')
    .update(`${OPERATION.name}\0${canonicalEmail(email)}`)
    .digest()
    .subarray(0, 16);
  b.writeUInt8((b.readUInt8(6) & 0x0f) | 0x80, 6);
  b.writeUInt8((b.readUInt8(8) & 0x3f) | 0x80, 8);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function keyOf(req: Register, key: string): KeyedRequest {
  return {
    userId: emailScope(req.email),
    key,
    hash: requestHash(OPERATION, { email: canonicalEmail(req.email), name: req.name }),
  };
}

/** Null when the queue has room; else the refusal, with the seconds after which it will. */
export function overloaded(hasher: Hasher, budgetMs: number): Outcome<never> | null {
  // A free thread always takes the work: waiting cannot make a lone hash faster, and refusing
  // everything would also stop the estimate from ever learning that the machine got quiet.
  if (hasher.waiting() < hasher.threads) return null;
  const wait = hasher.expectedWaitMs();
  return wait <= budgetMs ? null : busy(hasher, wait - budgetMs);
}

function busy(hasher: Hasher, overMs: number): Outcome<never> {
  const retryAfter = Math.max(1, Math.ceil(overMs / 1000));
  return refuse(
    'UNAVAILABLE',
    `${hasher.waiting()} sign-ups are being hashed (about ${Math.round(hasher.averageHashMs())} ms each); retry in ${retryAfter} s`,
    retryAfter,
  );
}

/** The first outcome of this key, if the password matches the account it created. */
async function replay(
  deps: RegisterDeps,
  outcome: Outcome<unknown>,
  password: string,
  derive: Derive,
): Promise<Outcome<Session>> {
  if (!outcome.ok) return outcome;
  const { user } = outcome.value as Session;
  const stored = await passwordHashOf(deps.pool, user.id);
  if (stored && (await verifyPassword(password, stored, derive))) return outcome as Outcome<Session>;
  return refuse('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request');
}

export async function register(
  deps: RegisterDeps,
  req: Register,
  ctx: CallContext,
  log: Logger,
): Promise<Outcome<Session>> {
  const full = overloaded(deps.hasher, deps.brokerTimeoutMs * WAIT_SHARE);
  if (full) return full;
  const started = performance.now();
  const derive = deps.hasher.deriveBy(started + deps.brokerTimeoutMs * FINISH_SHARE);
  try {
    return await registerWith(deps, req, ctx, derive);
  } catch (err) {
    if (err instanceof TooLate)
      return busy(deps.hasher, deps.hasher.expectedWaitMs() - deps.brokerTimeoutMs * WAIT_SHARE);
    throw err;
  } finally {
    const ms = performance.now() - started;
    // The estimate was wrong (a hash ran far longer than the last ones): the caller saw 504 and will retry.
    if (ms > deps.brokerTimeoutMs)
      log.warn(
        { ms: Math.round(ms), hashMs: Math.round(deps.hasher.averageHashMs()), waiting: deps.hasher.waiting() },
        'sign-up finished after the broker timeout',
      );
  }
}

async function registerWith(
  deps: RegisterDeps,
  req: Register,
  ctx: CallContext,
  derive: Derive,
): Promise<Outcome<Session>> {
  const key = ctx.idempotencyKey ? keyOf(req, ctx.idempotencyKey) : undefined;
  if (key) {
    const prior = await findKey(deps.pool, key);
    if (prior && prior.hash !== key.hash)
      return refuse('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request');
    if (prior?.outcome) return replay(deps, prior.outcome, req.password, derive);
  }
  const passwordHash = await hashPassword(req.password, deps.cost, derive);
  if (!key) return insertAccount(deps.pool, req, passwordHash);
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    // Claimed first: a concurrent attempt with this key waits here until this one commits, then replays it.
    const [prior] = await claimKeys(client, [key]);
    if (prior) {
      await client.query('ROLLBACK');
      return replay(deps, prior, req.password, derive);
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
