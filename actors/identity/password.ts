// Passwords are hashed with scrypt (memory-hard) on the identity actor's own
// worker thread, synchronously: one hash at a time per thread, never on an
// edge's event loop. The identity thread runs at a lower OS priority (see
// actor.ts), so when the machine is busy a wave of sign-ups yields the CPU
// to bookings instead of competing with them. The stored form carries its
// own parameters, so the cost can be raised later without breaking old hashes.
import { randomBytes, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

const memoryFor = (N: number) => 128 * N * BLOCK_SIZE * 2;

const derive = (password: string, salt: Buffer, opts: ScryptOptions): Buffer =>
  scryptSync(password.normalize('NFKC'), salt, KEY_LENGTH, opts);

export function hashPassword(password: string, cost: number): string {
  const N = 2 ** cost;
  const salt = randomBytes(16);
  const key = derive(password, salt, { N, r: BLOCK_SIZE, p: PARALLELISM, maxmem: memoryFor(N) });
  return ['scrypt', N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const N = Number(n);
  const expected = Buffer.from(key, 'base64');
  const actual = derive(password, Buffer.from(salt, 'base64'), { N, r: Number(r), p: Number(p), maxmem: memoryFor(N) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
