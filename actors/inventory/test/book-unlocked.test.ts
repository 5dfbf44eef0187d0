// The booking batch's two paths (book.ts), on a real Postgres: a batch
// without idempotency keys reads unlocked and writes once, checked against
// the version it read; when another writer commits in between, nothing of
// that write is kept and the batch is decided again under the row lock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { bookBatch, type BookRequest } from '../book.js';
import { readSeatLedger } from '../public.js';
import { startTestSystem, type TestSystem } from '../../../ops/testing/harness.js';

/**
 * The test's pool, passed through, counting what the batch asks of it; after
 * the first query named `interleaveAfter`, it runs `interleave` (another writer) before answering.
 */
function watchedPool(pool: pg.Pool, interleaveAfter?: string, interleave?: () => Promise<unknown>) {
  const seen = { queries: [] as string[], transactions: 0 };
  let pending = interleave;
  const watched = {
    async query(config: pg.QueryConfig) {
      seen.queries.push(config.name ?? config.text);
      const result = await pool.query(config);
      if (pending && config.name === interleaveAfter) {
        const run = pending;
        pending = undefined;
        await run();
      }
      return result;
    },
    async connect() {
      seen.transactions++;
      return pool.connect();
    },
  };
  return { pool: watched as unknown as pg.Pool, seen };
}

const request = (userId: string, eventId: string, quantity: number): BookRequest => ({
  userId,
  eventId,
  quantity,
  requestId: `test-${userId}-${quantity}`,
});

describe('a booking batch', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(async () => {
    await t.stop();
  });

  test('when nothing else writes the event, then a batch is one read and one write, without a transaction', async () => {
    const event = await t.createEvent({ capacity: 10, maxTicketsPerUser: 2 });
    const users = await t.registerUsers(3, 'unlocked-plain');
    const { pool, seen } = watchedPool(t.db);
    const outcomes = await bookBatch(
      pool,
      t.system.config.shards,
      event.id,
      users.map((u) => request(u.id, event.id, 2)),
    );
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.code)),
      ['ok', 'ok', 'ok'],
    );
    assert.deepEqual(seen.queries, ['booking-record.event-with-tickets', 'inventory.book-write']);
    assert.equal(seen.transactions, 0);
    const ledger = await readSeatLedger(t.db, event.id);
    assert.equal(ledger.confirmed, 6);
    assert.ok(ledger.ok, JSON.stringify(ledger));
  });

  test('when another booking of the same user commits between the read and the write, then nothing of the stale write is kept and the limit holds', async () => {
    const event = await t.createEvent({ capacity: 10, maxTicketsPerUser: 2 });
    const [user, other] = await t.registerUsers(2, 'unlocked-moved');
    const shards = t.system.config.shards;
    // Both read "holds 0 of 2"; the interleaved one commits first.
    const { pool, seen } = watchedPool(t.db, 'booking-record.event-with-tickets', () =>
      bookBatch(t.db, shards, event.id, [request(user.id, event.id, 2)]),
    );
    const outcomes = await bookBatch(pool, shards, event.id, [
      request(user.id, event.id, 2),
      request(other.id, event.id, 1),
    ]);

    // The stale acceptance of the user's 2 is not kept: decided again, it is over the limit.
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.code)),
      ['LIMIT_EXCEEDED', 'ok'],
    );
    assert.equal(seen.transactions, 1, 'decided again under the row lock');
    const { rows } = await t.db.query<{ user_id: string; n: number; tickets: number }>(
      `SELECT user_id, count(*)::int AS n, sum(quantity)::int AS tickets FROM bookings
       WHERE event_id = $1 AND status = 'confirmed' GROUP BY user_id ORDER BY tickets DESC`,
      [event.id],
    );
    assert.deepEqual(rows, [
      { user_id: user.id, n: 1, tickets: 2 },
      { user_id: other.id, n: 1, tickets: 1 },
    ]);
    const ledger = await readSeatLedger(t.db, event.id);
    assert.equal(ledger.available, 7);
    assert.ok(ledger.ok, `counts agree with the bookings: ${JSON.stringify(ledger)}`);
  });

  test('when a batch carries idempotency keys, then it books under the row lock in one transaction', async () => {
    const event = await t.createEvent({ capacity: 10 });
    const [user] = await t.registerUsers(1, 'unlocked-keyed');
    const { pool, seen } = watchedPool(t.db);
    const outcomes = await bookBatch(pool, t.system.config.shards, event.id, [
      { ...request(user.id, event.id, 1), idempotency: { userId: user.id, key: 'k-1', hash: 'h' } },
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true],
    );
    assert.equal(seen.transactions, 1);
    assert.deepEqual(seen.queries, []);
  });
});
