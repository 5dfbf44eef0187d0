// Claiming and settling deliveries, a chain at a time. A chain is the open
// (pending or failed) deliveries of one event to one endpoint, in (version,
// seq) order; only its head may be attempted, so a receiver sees one event's
// changes in order. A sender leases a whole chain (up to `length` rows) and
// sends it one by one; other chains, of the same endpoint up to its
// concurrency limit and of every other endpoint, go out meanwhile.
// Claims are serialised by a transaction-level advisory lock: each claim sees
// every earlier claim's leases, so no chain is ever leased twice, and a claim
// is a few milliseconds.
import type { Pool } from 'pg';
import { inTransaction } from '../../platform/resources.js';

/** Any constant shared by every sender; only the claim statement takes it. */
const CLAIM_LOCK = 0x7765_6268;

export interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  payload: unknown;
  attempts: number;
  first_attempt_at: Date | null;
  next_attempt_at: Date;
}

export interface ChainEndpoint {
  id: string;
  url: string;
  secrets: string[];
}

export interface Chain {
  endpoint: ChainEndpoint;
  deliveries: ClaimedDelivery[];
}

export interface ClaimLimits {
  chains: number;
  length: number;
  perEndpoint: number;
  leaseMs: number;
}

export async function claimChains(pool: Pool, limits: ClaimLimits): Promise<Chain[]> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
    const { rows } = await client.query<ClaimedDelivery & { pos: number }>({
      name: 'webhooks.claim-chains',
      // Index-driven throughout (webhook_deliveries_open): a skip scan finds each open (endpoint, event)
      // pair, one index probe finds its head, and only chosen chains are read further. The cost
      // follows the number of chains, not of open deliveries (a receiver down for a day can owe many).
      text: `WITH RECURSIVE pairs AS (
               (SELECT endpoint_id, event_id FROM webhook_deliveries WHERE status IN ('pending', 'failed')
                ORDER BY endpoint_id, event_id LIMIT 1)
               UNION ALL
               SELECT n.endpoint_id, n.event_id FROM pairs p CROSS JOIN LATERAL (
                 SELECT d.endpoint_id, d.event_id FROM webhook_deliveries d
                 WHERE d.status IN ('pending', 'failed') AND (d.endpoint_id, d.event_id) > (p.endpoint_id, p.event_id)
                 ORDER BY d.endpoint_id, d.event_id LIMIT 1) n
             ), heads AS (
               SELECT p.endpoint_id, p.event_id, h.lease_until, h.next_attempt_at
               FROM pairs p JOIN webhook_endpoints e ON e.id = p.endpoint_id AND e.enabled
               CROSS JOIN LATERAL (
                 SELECT d.lease_until, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.endpoint_id = p.endpoint_id AND d.event_id = p.event_id AND d.status IN ('pending', 'failed')
                 ORDER BY d.version, d.seq LIMIT 1) h
             ), busy AS (
               SELECT endpoint_id, count(*) AS n FROM heads WHERE lease_until > now() GROUP BY endpoint_id
             ), ready AS (
               SELECT h.endpoint_id, h.event_id, h.next_attempt_at, COALESCE(b.n, 0) AS busy,
                      row_number() OVER (PARTITION BY h.endpoint_id ORDER BY h.next_attempt_at) AS rank
               FROM heads h LEFT JOIN busy b USING (endpoint_id)
               WHERE (h.lease_until IS NULL OR h.lease_until <= now()) AND h.next_attempt_at <= now()
             ), chosen AS (
               SELECT endpoint_id, event_id FROM ready WHERE rank + busy <= $1 ORDER BY next_attempt_at LIMIT $2
             ), chain AS (
               SELECT r.id, r.pos FROM chosen c CROSS JOIN LATERAL (
                 SELECT d.id, row_number() OVER (ORDER BY d.version, d.seq) AS pos FROM webhook_deliveries d
                 WHERE d.endpoint_id = c.endpoint_id AND d.event_id = c.event_id AND d.status IN ('pending', 'failed')
                 ORDER BY d.version, d.seq LIMIT $3) r
             )
             UPDATE webhook_deliveries d SET lease_until = now() + $4::int * interval '1 millisecond'
             FROM chain c WHERE d.id = c.id
             RETURNING d.id, d.endpoint_id, d.event_id, d.payload, d.attempts, d.first_attempt_at, d.next_attempt_at, c.pos`,
      values: [limits.perEndpoint, limits.chains, limits.length, limits.leaseMs],
    });
    if (rows.length === 0) return [];
    const { rows: endpoints } = await client.query<{
      id: string;
      url: string;
      secret: string;
      previous: string | null;
    }>(
      `SELECT id, url, secret, CASE WHEN previous_expires_at > now() THEN previous_secret END AS previous
       FROM webhook_endpoints WHERE id = ANY($1::uuid[])`,
      [[...new Set(rows.map((r) => r.endpoint_id))]],
    );
    const byId = new Map(
      endpoints.map((e) => [e.id, { id: e.id, url: e.url, secrets: e.previous ? [e.secret, e.previous] : [e.secret] }]),
    );
    const chains = new Map<string, Chain>();
    for (const r of rows.sort((a, b) => a.pos - b.pos)) {
      const key = `${r.endpoint_id}/${r.event_id}`;
      let chain = chains.get(key);
      if (!chain) chains.set(key, (chain = { endpoint: byId.get(r.endpoint_id)!, deliveries: [] }));
      chain.deliveries.push(r);
    }
    return [...chains.values()];
  });
}

/** One attempt's outcome. `retryInMs` null on a failure = dead. */
export type Settled =
  | { id: string; delivered: true; code: number; response: string; firstAttemptAt: string }
  | {
      id: string;
      delivered: false;
      code: number | null;
      error: string;
      response: string | null;
      retryInMs: number | null;
      firstAttemptAt: string;
    };

/** Records attempts in one statement and frees their leases. */
export async function settle(pool: Pool, settled: readonly Settled[]): Promise<void> {
  if (settled.length === 0) return;
  await pool.query({
    name: 'webhooks.settle',
    text: `UPDATE webhook_deliveries d SET
             attempts = d.attempts + 1, lease_until = NULL, updated_at = now(),
             first_attempt_at = COALESCE(d.first_attempt_at, s."firstAttemptAt"),
             last_status_code = s.code, last_error = s.error, last_response = s.response,
             status = CASE WHEN s.delivered THEN 'delivered' WHEN s."retryInMs" IS NULL THEN 'dead' ELSE 'failed' END,
             delivered_at = CASE WHEN s.delivered THEN now() END,
             next_attempt_at = CASE WHEN s."retryInMs" IS NULL THEN d.next_attempt_at
                                    ELSE now() + s."retryInMs" * interval '1 millisecond' END
           FROM jsonb_to_recordset($1::jsonb) AS s(id uuid, delivered boolean, code int, error text, response text,
             "retryInMs" float8, "firstAttemptAt" timestamptz)
           WHERE d.id = s.id`,
    values: [JSON.stringify(settled)],
  });
}

/** Leased rows a chain did not get to: free at once for the next claim. */
export async function release(pool: Pool, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await pool.query({
    name: 'webhooks.release',
    text: 'UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ANY($1::uuid[])',
    values: [ids],
  });
}

/** 410 (gone) or a dead delivery (failing): nothing more is sent there until an admin enables it. */
export async function disableEndpoint(pool: Pool, id: string, reason: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled',
    [id, reason],
  );
  return (rowCount ?? 0) > 0;
}
