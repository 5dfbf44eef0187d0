// The mail_deliveries table: planned in the consumer's transaction, claimed
// and settled by the senders, read and retried by operators. A row's
// dedupe_key (domain event id : user : template) is unique, so planning the
// same mail twice writes it once.
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { MailDelivery } from '../../protocol/index.js';
import type { MailData, MailEvent } from './mail-data.js';
import type { TemplateName } from './templates.js';

/** A mail a domain event owes one user; the user's name and address are looked up when it is written. */
export interface Intent {
  /** The domain event that owes the mail. */
  cause: string;
  template: TemplateName;
  userId: string;
  data: Omit<MailData, 'user'> & { event: MailEvent };
}

export type SkipReason = 'no-address' | 'malformed-address' | 'unknown-user';

export interface Skipped {
  cause: string;
  userId: string;
  template: TemplateName;
  reason: SkipReason;
}

// The same check registration applies (ajv-formats' full email format), so any registered address passes.
const EMAIL = fullFormats.email as RegExp;

export function addressProblem(email: string | null | undefined): SkipReason | undefined {
  if (!email || email.trim() === '') return 'no-address';
  return email.length <= 254 && EMAIL.test(email) ? undefined : 'malformed-address';
}

/**
 * Writes planned mails inside the caller's transaction, in one statement:
 * pending for a usable address, skipped (with the reason) otherwise.
 * Returns how many rows were written and which of them were skipped.
 */
export async function writeDeliveries(
  client: PoolClient,
  intents: readonly Intent[],
): Promise<{ written: number; skipped: Skipped[] }> {
  if (intents.length === 0) return { written: 0, skipped: [] };
  const { rows: users } = await client.query<{ id: string; email: string | null; name: string }>(
    'SELECT id, email, name FROM users WHERE id = ANY($1::uuid[])',
    [[...new Set(intents.map((i) => i.userId))]],
  );
  const byId = new Map(users.map((u) => [u.id, u]));
  const skipped: Skipped[] = [];
  const rows = intents.map((intent) => {
    const user = byId.get(intent.userId);
    const reason = user ? addressProblem(user.email) : 'unknown-user';
    if (reason) skipped.push({ cause: intent.cause, userId: intent.userId, template: intent.template, reason });
    return {
      id: uuidv7(),
      dedupeKey: `${intent.cause}:${intent.userId}:${intent.template}`,
      template: intent.template,
      cause: intent.cause,
      eventId: intent.data.event.id,
      userId: intent.userId,
      recipient: user?.email ?? null,
      data: { ...intent.data, user: { name: user?.name ?? '', email: user?.email ?? '' } },
      status: reason ? 'skipped' : 'pending',
      skipReason: reason ?? null,
    };
  });
  const { rowCount } = await client.query(
    `INSERT INTO mail_deliveries (id, dedupe_key, template, domain_event_id, event_id, user_id, recipient, data, status, skip_reason)
     SELECT id, "dedupeKey", template, cause, "eventId", "userId", recipient, data, status, "skipReason"
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, "dedupeKey" text, template text, cause uuid, "eventId" uuid, "userId" uuid,
       recipient text, data jsonb, status text, "skipReason" text)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return { written: rowCount ?? 0, skipped };
}

export interface ClaimedMail {
  id: string;
  template: TemplateName;
  recipient: string;
  data: MailData;
  attempts: number;
}

/**
 * Takes up to `limit` mails for this sender that were due at least `holdMs`
 * ago (a sale holds mail back; see sender.ts). The claim moves each row's
 * next attempt `leaseMs` ahead, so a sender that dies mid-send leaves them
 * to be tried again then; SKIP LOCKED keeps two senders off the same rows.
 */
export async function claimDue(pool: Pool, limit: number, leaseMs: number, holdMs = 0): Promise<ClaimedMail[]> {
  const { rows } = await pool.query<ClaimedMail>({
    name: 'mail.claim-due',
    text: `UPDATE mail_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + $2::int * interval '1 millisecond', updated_at = now()
           FROM (SELECT id FROM mail_deliveries WHERE status = 'pending' AND next_attempt_at <= now() - $3::int * interval '1 millisecond'
                 ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
           WHERE d.id = due.id
           RETURNING d.id, d.template, d.recipient, d.data, d.attempts`,
    values: [limit, leaseMs, holdMs],
  });
  return rows;
}

export interface SentMail {
  id: string;
  provider: string;
  messageId: string;
}

/** Records a round's sent mails in one statement. */
export async function markSent(pool: Pool, sent: readonly SentMail[]): Promise<void> {
  if (sent.length === 0) return;
  await pool.query({
    name: 'mail.mark-sent',
    text: `UPDATE mail_deliveries d SET status = 'sent', provider = s.provider, message_id = s."messageId", last_error = NULL,
             sent_at = now(), updated_at = now()
           FROM jsonb_to_recordset($1::jsonb) AS s(id uuid, provider text, "messageId" text)
           WHERE d.id = s.id`,
    values: [JSON.stringify(sent)],
  });
}

/** A failed attempt: the next one after `retryInMs`, or none (dead) when `retryInMs` is null. */
export async function markFailed(pool: Pool, id: string, error: string, retryInMs: number | null): Promise<void> {
  await pool.query({
    name: 'mail.mark-failed',
    text: `UPDATE mail_deliveries SET last_error = $2, updated_at = now(),
             status = CASE WHEN $3::int IS NULL THEN 'dead' ELSE status END,
             next_attempt_at = CASE WHEN $3::int IS NULL THEN next_attempt_at ELSE now() + $3::int * interval '1 millisecond' END
           WHERE id = $1`,
    values: [id, error.slice(0, 2000), retryInMs],
  });
}

export const DELIVERY_COLUMNS = `id, template, status, domain_event_id, event_id, user_id, recipient, attempts, next_attempt_at,
  last_error, skip_reason, provider, message_id, created_at, updated_at`;

export interface DeliveryRow {
  id: string;
  template: string;
  status: MailDelivery['status'];
  domain_event_id: string;
  event_id: string | null;
  user_id: string | null;
  recipient: string | null;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  skip_reason: string | null;
  provider: string | null;
  message_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toDelivery = (r: DeliveryRow): MailDelivery => ({
  id: r.id,
  template: r.template,
  status: r.status,
  domainEventId: r.domain_event_id,
  eventId: r.event_id,
  userId: r.user_id,
  recipient: r.recipient,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at.toISOString(),
  lastError: r.last_error,
  skipReason: r.skip_reason,
  provider: r.provider,
  messageId: r.message_id,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
