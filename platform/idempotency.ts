// Idempotency keys live in Postgres, in the same transaction as the work they
// guard. The key row is inserted first: a concurrent duplicate blocks on the
// primary key until the first commits, then finds its stored outcome.
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { refuse, type Operation, type Outcome } from '../protocol/index.js';

export interface KeyedRequest {
  userId: string;
  key: string;
  hash: string;
}

/** What a key is bound to: the operation (by its name) and the request. */
export const requestHash = (operation: Operation, payload: unknown): string =>
  createHash('sha256').update(operation.name).update('\0').update(JSON.stringify(payload)).digest('base64url');

/**
 * Claims every key it can. Returns, for each request, null when it was
 * claimed (do the work) or the outcome to answer with (a replay, or a
 * conflict when the same key came with another request).
 */
export async function claimKeys(
  client: PoolClient,
  reqs: readonly KeyedRequest[],
): Promise<(Outcome<unknown> | null)[]> {
  if (reqs.length === 0) return [];
  const claimed = await client.query<{ user_id: string; key: string }>({
    name: 'idempotency.claim',
    text: `INSERT INTO idempotency_keys (user_id, key, request_hash)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
     ON CONFLICT DO NOTHING RETURNING user_id, key`,
    values: [reqs.map((r) => r.userId), reqs.map((r) => r.key), reqs.map((r) => r.hash)],
  });
  const mine = new Set(claimed.rows.map((r) => `${r.user_id}\0${r.key}`));
  const others = reqs.filter((r) => !mine.has(`${r.userId}\0${r.key}`));
  const stored = new Map<string, { request_hash: string; outcome: Outcome<unknown> | null }>();
  if (others.length > 0) {
    const found = await client.query<{
      user_id: string;
      key: string;
      request_hash: string;
      outcome: Outcome<unknown> | null;
    }>({
      name: 'idempotency.find',
      text: `SELECT k.user_id, k.key, k.request_hash, k.outcome FROM idempotency_keys k
       JOIN unnest($1::uuid[], $2::text[]) AS w(user_id, key) ON k.user_id = w.user_id AND k.key = w.key`,
      values: [others.map((r) => r.userId), others.map((r) => r.key)],
    });
    for (const row of found.rows) stored.set(`${row.user_id}\0${row.key}`, row);
  }
  const seen = new Set<string>();
  return reqs.map((r) => {
    const id = `${r.userId}\0${r.key}`;
    if (mine.has(id) && !seen.has(id)) {
      seen.add(id);
      return null;
    }
    const prior = stored.get(id);
    if (prior && prior.request_hash !== r.hash)
      return refuse('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request');
    // Same key twice in one batch (only when a lock expired mid-flight): ask the client to retry.
    return prior?.outcome ?? refuse('BOOKING_IN_PROGRESS', 'a request with this Idempotency-Key is in progress');
  });
}

/** Stores the outcome of each claimed key; every claimed request ends with a final outcome or a rollback. */
export async function storeOutcomes(
  client: PoolClient,
  items: readonly { req: KeyedRequest; outcome: Outcome<unknown> }[],
): Promise<void> {
  if (items.length === 0) return;
  await client.query({
    name: 'idempotency.store',
    text: `UPDATE idempotency_keys k SET outcome = v.outcome
     FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) AS v(user_id, key, outcome)
     WHERE k.user_id = v.user_id AND k.key = v.key`,
    values: [items.map((i) => i.req.userId), items.map((i) => i.req.key), items.map((i) => JSON.stringify(i.outcome))],
  });
}

/** The stored record of one key, read without claiming it: lets a retry answer before doing costly work. */
export async function findKey(
  db: Pool,
  req: KeyedRequest,
): Promise<{ hash: string; outcome: Outcome<unknown> | null } | undefined> {
  const { rows } = await db.query<{ request_hash: string; outcome: Outcome<unknown> | null }>(
    'SELECT request_hash, outcome FROM idempotency_keys WHERE user_id = $1 AND key = $2',
    [req.userId, req.key],
  );
  return rows[0] ? { hash: rows[0].request_hash, outcome: rows[0].outcome } : undefined;
}
