// What admins do to accounts, and the state an edge checks a token against.
// Disabling a user or changing their role bumps the token version, so every
// token issued before stops working at once, and the change is broadcast so
// edges drop what they cached.
import type { NatsConnection } from 'nats';
import type { Pool } from 'pg';
import {
  ACCOUNT_CHANGED_SUBJECT,
  ok,
  refuse,
  type AccountChanged,
  type AccountState,
  type AccountStateList,
  type AdminUser,
  type AdminUserPage,
  type CallContext,
  type ListUsers,
  type Outcome,
  type SetUserRole,
  type SetUserStatus,
  type UserRef,
  type UserRefs,
} from '../../protocol/index.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';

interface Row {
  id: string;
  email: string;
  name: string;
  role: AdminUser['role'];
  status: AdminUser['status'];
  created_at: Date;
  token_version: number;
}

const COLUMNS = 'id, email, name, role, status, created_at, token_version';
const toAdminUser = (r: Row): AdminUser => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  status: r.status,
  createdAt: r.created_at.toISOString(),
});
const onlyAdmins = refuse('FORBIDDEN', 'only admins manage users');

/** For edges of the previous release during a rolling upgrade (operations.ts, identity.state). */
export async function accountState(pool: Pool, req: UserRef): Promise<Outcome<AccountState>> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [req.userId]);
  const r = rows[0];
  return r
    ? ok({ userId: r.id, role: r.role, status: r.status, tokenVersion: r.token_version })
    : refuse('NOT_FOUND', 'no such user');
}

export async function accountStates(pool: Pool, req: UserRefs): Promise<Outcome<AccountStateList>> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = ANY($1::uuid[])`, [req.userIds]);
  const items = rows.map((r) => ({ userId: r.id, role: r.role, status: r.status, tokenVersion: r.token_version }));
  return ok({ items });
}

export async function listUsers(pool: Pool, req: ListUsers, ctx: CallContext): Promise<Outcome<AdminUserPage>> {
  if (ctx.role !== 'admin') return onlyAdmins;
  const limit = req.limit ?? 20;
  const params: unknown[] = [limit + 1];
  const where: string[] = [];
  if (req.q) {
    params.push(`%${req.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`(email ILIKE $${params.length} OR name ILIKE $${params.length})`);
  }
  if (req.cursor) {
    const key = decodeCursor(req.cursor, ['uuid']);
    if (!key) return refuse('VALIDATION_FAILED', 'cursor is not valid: pass nextCursor from a previous page unchanged');
    params.push(key[0]);
    where.push(`id > $${params.length}::uuid`);
  }
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM users ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $1`,
    params,
  );
  const items = rows.slice(0, limit).map(toAdminUser);
  const last = items[items.length - 1];
  return ok({ items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null });
}

async function change(
  pool: Pool,
  nc: NatsConnection,
  userId: string,
  column: 'status' | 'role',
  value: string,
): Promise<Outcome<AdminUser>> {
  // The version moves only when the value does: setting what is already set keeps the user's tokens.
  const { rows } = await pool.query<Row>(
    `UPDATE users SET ${column} = $2, token_version = token_version + CASE WHEN ${column} = $2 THEN 0 ELSE 1 END
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [userId, value],
  );
  if (!rows[0]) return refuse('NOT_FOUND', 'no such user');
  nc.publish(ACCOUNT_CHANGED_SUBJECT, JSON.stringify({ userId } satisfies AccountChanged));
  return ok(toAdminUser(rows[0]));
}

export async function setStatus(
  pool: Pool,
  nc: NatsConnection,
  req: SetUserStatus,
  ctx: CallContext,
): Promise<Outcome<AdminUser>> {
  if (ctx.role !== 'admin') return onlyAdmins;
  if (req.userId === ctx.userId && req.status !== 'active')
    return refuse('VALIDATION_FAILED', 'status: an admin cannot disable their own account');
  return change(pool, nc, req.userId, 'status', req.status);
}

export async function setRole(
  pool: Pool,
  nc: NatsConnection,
  req: SetUserRole,
  ctx: CallContext,
): Promise<Outcome<AdminUser>> {
  if (ctx.role !== 'admin') return onlyAdmins;
  if (req.userId === ctx.userId && req.role !== 'admin')
    return refuse('VALIDATION_FAILED', 'role: an admin cannot demote themselves');
  return change(pool, nc, req.userId, 'role', req.role);
}
