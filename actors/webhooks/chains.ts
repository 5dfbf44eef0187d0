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
import { inTransaction } from '../runtime/resources.js';

/** Any constant shared by every sender; only the claim statement takes it. */
const CLAIM_LOCK = 0x7765_6268;

export interface ClaimedDelivery {
  id: string; endpoint_id: string; event_id: string; payload: unknown; attempts: number;
  first_attempt_at: Date | null; next_attempt_at: Date;
}

export interface ChainEndpoint { id: string; url: string; secrets: string[] }

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
      text: `WITH open AS (
               SELECT d.id, d.endpoint_id, d.event_id, d.lease_until, d.next_attempt_at,
                      row_number() OVER (PARTITION BY d.endpoint_id, d.event_id ORDER BY d.version, d.seq) AS pos
               FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
               WHERE d.status IN ('pending', 'failed')
             ), busy AS (
               SELECT endpoint_id, count(*) AS n FROM open WHERE pos = 1 AND lease_until > now() GROUP BY endpoint_id
             ), ready AS (
               SELECT o.endpoint_id, o.event_id, o.next_attempt_at, COALESCE(b.n, 0) AS busy,
                      row_number() OVER (PARTITION BY o.endpoint_id ORDER BY o.next_attempt_at) AS rank
               FROM open o LEFT JOIN busy b USING (endpoint_id)
               WHERE o.pos = 1 AND (o.lease_until IS NULL OR o.lease_until <= now()) AND o.next_attempt_at <= now()
             ), chosen AS (
               SELECT endpoint_id, event_id FROM ready WHERE rank + busy <= $1 ORDER BY next_attempt_at LIMIT $2
             )
             UPDATE webhook_deliveries d SET lease_until = now() + $4::int * interval '1 millisecond'
             FROM open o JOIN chosen c USING (endpoint_id, event_id)
             WHERE d.id = o.id AND o.pos <= $3
             RETURNING d.id, d.endpoint_id, d.event_id, d.payload, d.attempts, d.first_attempt_at, d.next_attempt_at, o.pos`,
      values: [limits.perEndpoint, limits.chains, limits.length, limits.leaseMs],
    });
    if (rows.length === 0) return [];
    const { rows: endpoints } = await client.query<{ id: string; url: string; secret: string; previous: string | null }>(
      `SELECT id, url, secret, CASE WHEN previous_expires_at > now() THEN previous_secret END AS previous
       FROM webhook_endpoints WHERE id = ANY($1::uuid[])`, [[...new Set(rows.map((r) => r.endpoint_id))]]);
    const byId = new Map(endpoints.map((e) => [e.id, { id: e.id, url: e.url, secrets: e.previous ? [e.secret, e.previous] : [e.secret] }]));
    const chains = new Map<string, Chain>();
    for (const r of rows.sort((a, b) => a.pos - b.pos)) {
      const key = `${r.endpoint_id}/${r.event_id}`;
      let chain = chains.get(key);
      if (!chain) chains.set(key, chain = { endpoint: byId.get(r.endpoint_id)!, deliveries: [] });
      chain.deliveries.push(r);
    }
    return [...chains.values()];
  });
}

/** One attempt's outcome. `retryInMs` null on a failure = dead. */
export type Settled =
  | { id: string; delivered: true; code: number; response: string; firstAttemptAt: string }
  | { id: string; delivered: false; code: number | null; error: string; response: string | null; retryInMs: number | null; firstAttemptAt: string };

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
  await pool.query({ name: 'webhooks.release', text: 'UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ANY($1::uuid[])', values: [ids] });
}

/** 410 (gone) or a dead delivery (failing): nothing more is sent there until an admin enables it. */
export async function disableEndpoint(pool: Pool, id: string, reason: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled', [id, reason]);
  return (rowCount ?? 0) > 0;
}
