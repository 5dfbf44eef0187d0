// Passwords are hashed with scrypt (memory-hard), which Node runs on the libuv
// thread pool, never on an event loop. Each identity thread hashes one
// password at a time so a registration wave cannot take every core from the
// booking path. The stored form carries its own parameters, so the cost can
// be raised later without breaking old hashes.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

const derive = (password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });

/** Serialises KDF work: at most one hash in flight per thread. */
class Gate {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
const gate = new Gate();

const memoryFor = (N: number) => 128 * N * BLOCK_SIZE * 2;

export function hashPassword(password: string, cost: number): Promise<string> {
  return gate.run(async () => {
    const N = 2 ** cost;
    const salt = randomBytes(16);
    const key = await derive(password, salt, { N, r: BLOCK_SIZE, p: PARALLELISM, maxmem: memoryFor(N) });
    return ['scrypt', N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
  });
}

export function verifyPassword(password: string, stored: string): Promise<boolean> {
  return gate.run(async () => {
    const [scheme, n, r, p, salt, key] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !key) return false;
    const N = Number(n);
    const expected = Buffer.from(key, 'base64');
    const actual = await derive(password, Buffer.from(salt, 'base64'), { N, r: Number(r), p: Number(p), maxmem: memoryFor(N) });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
}
