// The webhook_endpoints table as admins see it: register (the secret is
// answered once), list, read, change, delete, rotate the secret. A URL is
// checked by the SSRF guard whenever it is set; what it refuses is a
// VALIDATION_FAILED naming the url field.
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  ok,
  refuse,
  type CreateWebhook,
  type ListWebhooks,
  type Outcome,
  type UpdateWebhook,
  type Webhook,
  type WebhookPage,
  type WebhookRef,
  type WebhookWithSecret,
} from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { urlProblem } from './address-guard.js';
import { newSecret } from './signature.js';

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, url, events, description, enabled, disabled_reason, secret, previous_expires_at, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toWebhook = (r: EndpointRow): Webhook => ({
  id: r.id,
  url: r.url,
  events: r.events,
  description: r.description,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
const withSecret = (r: EndpointRow): WebhookWithSecret => ({
  ...toWebhook(r),
  secret: r.secret,
  previousSecretExpiresAt: r.previous_expires_at?.toISOString() ?? null,
});

export class Endpoints {
  constructor(
    private readonly pool: Pool,
    private readonly allowHosts: readonly string[],
    private readonly graceMs: number,
  ) {}

  private async checkUrl(url: string): Promise<Outcome<never> | undefined> {
    const problem = await urlProblem(url, this.allowHosts);
    return problem ? refuse('VALIDATION_FAILED', problem) : undefined;
  }

  async create(req: CreateWebhook): Promise<Outcome<WebhookWithSecret>> {
    const bad = await this.checkUrl(req.url);
    if (bad) return bad;
    const {
      rows: [row],
    } = await this.pool.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, url, events, description, secret) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [uuidv7(), req.url, req.events, req.description ?? null, newSecret()],
    );
    return ok(withSecret(expectRow(row, 'webhook endpoint insert')), 201);
  }

  async list(req: ListWebhooks): Promise<Outcome<WebhookPage>> {
    const limit = req.limit ?? 20;
    const params: unknown[] = [limit + 1];
    let after = '';
    if (req.cursor) {
      const key = decodeCursor(req.cursor, ['string']);
      if (!key || !UUID.test(key[0] as string)) return refuse('VALIDATION_FAILED', 'cursor is not valid');
      params.push(key[0]);
      after = 'WHERE id < $2::uuid';
    }
    const { rows } = await this.pool.query<EndpointRow>(
      `SELECT ${COLUMNS} FROM webhook_endpoints ${after} ORDER BY id DESC LIMIT $1`,
      params,
    );
    const items = rows.slice(0, limit).map(toWebhook);
    const last = items[items.length - 1];
    return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
  }

  async get({ id }: WebhookRef): Promise<Outcome<Webhook>> {
    const {
      rows: [row],
    } = await this.pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
    return row ? ok(toWebhook(row)) : refuse('NOT_FOUND', 'no such webhook endpoint');
  }

  /** Enabling clears the reason Evently disabled it; the deliveries it still owes resume. */
  async update(req: UpdateWebhook): Promise<Outcome<Webhook>> {
    if (req.url !== undefined) {
      const bad = await this.checkUrl(req.url);
      if (bad) return bad;
    }
    const {
      rows: [row],
    } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET
         url = COALESCE($2, url), events = COALESCE($3, events),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6 IS TRUE THEN NULL ELSE disabled_reason END,
         updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        req.id,
        req.url ?? null,
        req.events ?? null,
        req.description !== undefined,
        req.description ?? null,
        req.enabled ?? null,
      ],
    );
    return row ? ok(toWebhook(row)) : refuse('NOT_FOUND', 'no such webhook endpoint');
  }

  /** Its deliveries go with it (ON DELETE CASCADE): nothing more is sent there. */
  async remove({ id }: WebhookRef): Promise<Outcome<Record<string, never>>> {
    const { rowCount } = await this.pool.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
    return rowCount ? ok({}, 204) : refuse('NOT_FOUND', 'no such webhook endpoint');
  }

  /** A new secret signs from now on; the old one signs too until the grace period ends. */
  async rotateSecret({ id }: WebhookRef): Promise<Outcome<WebhookWithSecret>> {
    const {
      rows: [row],
    } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET previous_secret = secret, secret = $2,
         previous_expires_at = now() + $3::bigint * interval '1 millisecond', updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, newSecret(), this.graceMs],
    );
    return row ? ok(withSecret(row)) : refuse('NOT_FOUND', 'no such webhook endpoint');
  }
}
