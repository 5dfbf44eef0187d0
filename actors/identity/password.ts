// Passwords are hashed with scrypt (memory-hard). The stored form carries its
// own parameters, so the cost can be raised later without breaking old hashes.
// Where the key is derived is the caller's choice (a `Derive`): the identity
// actor passes its pool of low-priority hashing threads (hasher.ts); one-off
// callers such as the first-admin check at start use libuv's pool.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptTask {
  password: string;
  salt: Buffer;
  N: number;
  r: number;
  p: number;
}

export type Derive = (task: ScryptTask) => Promise<Buffer>;

export const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

/** scrypt needs 128·N·r bytes; twice that leaves Node's own bookkeeping room. */
export const memoryFor = (N: number, r: number) => 128 * N * r * 2;

/** NFKC, so the same password typed on two keyboards hashes the same. */
export const normalized = (password: string) => password.normalize('NFKC');

export const deriveOnLibuv: Derive = ({ password, salt, N, r, p }) =>
  new Promise((resolve, reject) => {
    scrypt(normalized(password), salt, KEY_LENGTH, { N, r, p, maxmem: memoryFor(N, r) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });

export async function hashPassword(password: string, cost: number, derive: Derive = deriveOnLibuv): Promise<string> {
  const N = 2 ** cost;
  const salt = randomBytes(16);
  const key = await derive({ password, salt, N, r: BLOCK_SIZE, p: PARALLELISM });
  return ['scrypt', N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(
  password: string,
  stored: string,
  derive: Derive = deriveOnLibuv,
): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive({
    password,
    salt: Buffer.from(salt, 'base64'),
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
