// The delivery log as admins see it: an endpoint's deliveries newest first
// (ids are time-ordered) with a cursor and an optional status filter, and a
// manual retry that makes one due at once with a fresh retry window.
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type ListWebhookDeliveries,
  type Outcome,
  type WebhookDelivery,
  type WebhookDeliveryPage,
  type WebhookDeliveryRef,
} from '../../protocol/index.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';

interface Row {
  id: string;
  event_type: string;
  status: WebhookDelivery['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_response: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  domain_event_id: string;
  event_id: string;
  version: number;
  created_at: Date;
}

const COLUMNS = `id, event_type, status, attempts, last_status_code, last_error, last_response, next_attempt_at, delivered_at,
  domain_event_id, event_id, version, created_at`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toDelivery = (r: Row): WebhookDelivery => ({
  id: r.id,
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  lastResponse: r.last_response,
  nextAttemptAt: r.status === 'pending' || r.status === 'failed' ? r.next_attempt_at.toISOString() : null,
  deliveredAt: r.delivered_at?.toISOString() ?? null,
  domainEventId: r.domain_event_id,
  eventId: r.event_id,
  version: r.version,
  createdAt: r.created_at.toISOString(),
});

const endpointExists = async (pool: Pool, id: string) =>
  (await pool.query('SELECT 1 FROM webhook_endpoints WHERE id = $1', [id])).rowCount !== 0;

export async function listDeliveries(pool: Pool, req: ListWebhookDeliveries): Promise<Outcome<WebhookDeliveryPage>> {
  const limit = req.limit ?? 20;
  const params: unknown[] = [req.id, limit + 1, req.status ?? null];
  let after = '';
  if (req.cursor) {
    const key = decodeCursor(req.cursor, ['string']);
    if (!key || !UUID.test(key[0] as string)) return refuse('VALIDATION_FAILED', 'cursor is not valid');
    params.push(key[0]);
    after = 'AND id < $4::uuid';
  }
  if (!(await endpointExists(pool, req.id))) return refuse('NOT_FOUND', 'no such webhook endpoint');
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 AND ($3::text IS NULL OR status = $3) ${after}
     ORDER BY id DESC LIMIT $2`,
    params,
  );
  const items = rows.slice(0, limit).map(toDelivery);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
}

/**
 * Due now, with a fresh retry window; the count of attempts goes on. A
 * delivered one is sent again (receivers dedupe on its webhook-id).
 */
export async function retryDelivery(
  pool: Pool,
  { id, deliveryId }: WebhookDeliveryRef,
): Promise<Outcome<WebhookDelivery>> {
  const {
    rows: [row],
  } = await pool.query<Row>(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), first_attempt_at = NULL, delivered_at = NULL, updated_at = now()
     WHERE id = $1 AND endpoint_id = $2 RETURNING ${COLUMNS}`,
    [deliveryId, id],
  );
  return row ? ok(toDelivery(row), 202) : refuse('NOT_FOUND', 'no such delivery for this webhook endpoint');
}
