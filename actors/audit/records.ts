// The audit log's SQL: one statement per batch in, filtered pages out.
// Inserts are idempotent by record id, so a batch JetStream redelivers
// changes nothing; the table itself refuses UPDATE and DELETE.
import type { Pool } from 'pg';
import { ok, refuse, type AuditPage, type AuditRecord, type ListAudit, type Outcome } from '../../protocol/index.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';

const COLUMNS = `id, at, user_id, role, subject, ip, method, route, action, target_id, status, code, request_id, trace_id, duration_ms`;

interface AuditRow {
  id: string;
  at: Date;
  user_id: string | null;
  role: string | null;
  subject: string | null;
  ip: string;
  method: string;
  route: string;
  action: string;
  target_id: string | null;
  status: number;
  code: string | null;
  request_id: string;
  trace_id: string;
  duration_ms: number;
}

const toRecord = (r: AuditRow): AuditRecord => ({
  id: r.id,
  at: r.at.toISOString(),
  userId: r.user_id,
  role: r.role,
  subject: r.subject,
  ip: r.ip,
  method: r.method,
  route: r.route,
  action: r.action,
  targetId: r.target_id,
  status: r.status,
  code: r.code,
  requestId: r.request_id,
  traceId: r.trace_id,
  durationMs: r.duration_ms,
});

/** Inserts a batch in one statement; returns how many rows were new. */
export async function insertBatch(pool: Pool, records: readonly AuditRecord[]): Promise<number> {
  const { rowCount } = await pool.query({
    name: 'audit.insert-batch',
    text: `INSERT INTO audit_log (${COLUMNS})
      SELECT id, at, "userId", role, subject, ip, method, route, action, "targetId", status, code, "requestId", "traceId", "durationMs"
      FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, at timestamptz, "userId" uuid, role text, subject text, ip text,
        method text, route text, action text, "targetId" text, status int, code text, "requestId" text, "traceId" text, "durationMs" real)
      ON CONFLICT (id) DO NOTHING`,
    values: [JSON.stringify(records)],
  });
  return rowCount ?? 0;
}

/** Newest first; every filter is a bound parameter. */
export async function listRecords(pool: Pool, req: ListAudit): Promise<Outcome<AuditPage>> {
  const limit = req.limit ?? 20;
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  if (req.userId) where.push(`user_id = ${bind(req.userId)}`);
  if (req.action) where.push(`action = ${bind(req.action)}`);
  if (req.status) where.push(`status = ${bind(req.status)}`);
  if (req.code) where.push(`code = ${bind(req.code)}`);
  if (req.requestId) where.push(`request_id = ${bind(req.requestId)}`);
  if (req.from) where.push(`at >= ${bind(req.from)}`);
  if (req.to) where.push(`at < ${bind(req.to)}`);
  if (req.cursor) {
    const key = decodeCursor(req.cursor, ['timestamp', 'uuid']);
    if (!key) return refuse('VALIDATION_FAILED', 'cursor is not valid: pass nextCursor from a previous page unchanged');
    where.push(`(at, id) < (${bind(key[0])}::timestamptz, ${bind(key[1])}::uuid)`);
  }
  const { rows } = await pool.query<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY at DESC, id DESC LIMIT ${bind(limit + 1)}`,
    params,
  );
  const items = rows.slice(0, limit).map(toRecord);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.at, last.id]) : null });
}
