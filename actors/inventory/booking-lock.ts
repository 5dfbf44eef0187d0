// Layer one of the booking protection: a Redis lock per user and event, so one
// user's concurrent requests for one event are taken one at a time. A request
// that meets the lock waits for it briefly; past the bound it is refused as
// BOOKING_IN_PROGRESS (retryable). Release is compare-and-delete so a request
// whose lock expired can never free someone else's.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export const lockKey = (userId: string, eventId: string): string => `booking_lock:${userId}:${eventId}`;

/** Every token a thread sets starts with this, so its locks can be freed when the thread dies. */
export const lockOwner = (pid: number, threadId: number): string => `inventory:${pid}:${threadId}:`;

const RELEASE_OWNED = `local n = 0
for _, key in ipairs(KEYS) do
  local v = redis.call('get', key)
  if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then redis.call('del', key); n = n + 1 end
end
return n`;

const EXPIRE_TIMELESS = `local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('pttl', key) == -1 then redis.call('pexpire', key, ARGV[1]); n = n + 1 end
end
return n`;

/** Runs a script over every booking lock, a scan batch at a time; sums what it returns. */
async function overEveryLock(redis: Redis, script: string, arg: string): Promise<number> {
  let count = 0;
  for await (const keys of redis.scanStream({ match: 'booking_lock:*', count: 500 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) count += Number(await redis.eval(script, keys.length, ...keys, arg));
  }
  return count;
}

/** Frees the locks a dead thread held, so its users need not wait out the TTL. */
export const releaseLocksOf = (redis: Redis, owner: string): Promise<number> =>
  overEveryLock(redis, RELEASE_OWNED, owner);

/**
 * Gives a lock that has no expiry (nothing in Evently sets one, but a hand-made key or a SET
 * without PX from other code would) the normal TTL: it would otherwise block its user's bookings of
 * that event for good. Its holder, if any, keeps the usual time to finish.
 */
export const expireTimelessLocks = (redis: Redis, ttlMs: number): Promise<number> =>
  overEveryLock(redis, EXPIRE_TIMELESS, String(ttlMs));

export class BookingLocks {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly waitMs: number,
    /** Prefix of every token this thread sets, so a supervisor can find a dead thread's locks. */
    private readonly owner: string,
  ) {}

  /** Resolves to the lock token, or null when the lock stayed taken for longer than the wait bound. */
  async acquire(userId: string, eventId: string): Promise<string | null> {
    const key = lockKey(userId, eventId);
    const token = `${this.owner}${randomUUID()}`;
    const deadline = Date.now() + this.waitMs;
    let pause = 2;
    for (;;) {
      if ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) === 'OK') return token;
      if (Date.now() + pause > deadline) return null;
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
  }

  async release(userId: string, eventId: string, token: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, lockKey(userId, eventId), token)) === 1;
  }
}
