// The dead-letter store as operators see it: mails whose every attempt
// failed, newest mail first (ids are time-ordered) with a cursor, and a retry
// that makes one due again with a fresh set of attempts.
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type DeadLetterPage,
  type DeliveryRef,
  type ListDeadLetters,
  type MailDelivery,
  type Outcome,
} from '../../protocol/index.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { DELIVERY_COLUMNS, toDelivery, type DeliveryRow } from './deliveries.js';

export async function listDeadLetters(pool: Pool, req: ListDeadLetters): Promise<Outcome<DeadLetterPage>> {
  const limit = req.limit ?? 20;
  const params: unknown[] = [limit + 1];
  let after = '';
  if (req.cursor) {
    const key = decodeCursor(req.cursor, ['uuid']);
    if (!key) return refuse('VALIDATION_FAILED', 'cursor is not valid');
    params.push(key[0]);
    after = 'AND id < $2::uuid';
  }
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM mail_deliveries WHERE status = 'dead' ${after} ORDER BY id DESC LIMIT $1`,
    params,
  );
  const items = rows.slice(0, limit).map(toDelivery);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
}

/** Due at once, attempts from zero; anything but a dead letter is refused. */
export async function retryDeadLetter(pool: Pool, { deliveryId }: DeliveryRef): Promise<Outcome<MailDelivery>> {
  const { rows } = await pool.query<DeliveryRow>(
    `UPDATE mail_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
     WHERE id = $1 AND status = 'dead' RETURNING ${DELIVERY_COLUMNS}`,
    [deliveryId],
  );
  if (rows[0]) return ok(toDelivery(rows[0]), 202);
  const found = await pool.query<{ status: string }>('SELECT status FROM mail_deliveries WHERE id = $1', [deliveryId]);
  return found.rows[0]
    ? refuse('MAIL_NOT_DEAD', `the mail is ${found.rows[0].status}, not in the dead-letter store`)
    : refuse('NOT_FOUND', 'no such mail');
}
