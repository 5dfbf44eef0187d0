// Accounts and sign-in. Emails are unique without regard to case; a failed
// sign-in costs the same whether or not the account exists, so timing does
// not reveal which emails are registered. Registering, with its idempotency
// and back-pressure, is register.ts.
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ok, refuse, type Login, type Outcome, type Register, type User } from '../protocol/index.js';
import { hashPassword, verifyPassword, type Derive } from './password.js';

interface UserRow { id: string; email: string; name: string; role: User['role']; created_at: Date; password_hash: string }

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at.toISOString() });

/**
 * Inserts the account with an already hashed password. A taken email is a
 * refusal, not an error, so it can be stored as an idempotent outcome in the
 * caller's transaction (DO NOTHING leaves that transaction usable).
 */
export async function insertAccount(db: Pool | PoolClient, req: Register, passwordHash: string, role: User['role'] = 'user'): Promise<Outcome<User>> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING id, email, name, role, created_at, password_hash`,
    [uuidv7(), req.email.trim(), req.name.trim(), passwordHash, role]);
  return rows[0] ? ok(toUser(rows[0]), 201) : refuse('EMAIL_TAKEN', 'this email is already registered');
}

export async function passwordHashOf(db: Pool | PoolClient, userId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]);
  return rows[0]?.password_hash;
}

let decoy: Promise<string> | undefined;

export async function login(pool: Pool, req: Login, cost: number, derive: Derive): Promise<Outcome<User>> {
  const { rows } = await pool.query<UserRow>(
    'SELECT id, email, name, role, created_at, password_hash FROM users WHERE lower(email) = lower($1)', [req.email.trim()]);
  const row = rows[0];
  decoy ??= hashPassword('decoy-password', cost, derive);
  const matches = await verifyPassword(req.password, row ? row.password_hash : await decoy, derive);
  return row && matches ? ok(toUser(row)) : refuse('INVALID_CREDENTIALS', 'email or password is wrong');
}

/** Creates the first admin if no account has that email; an existing account is left as it is. */
export async function ensureAdmin(pool: Pool, email: string, password: string, cost: number): Promise<'created' | 'exists'> {
  const { rowCount } = await pool.query('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email.trim()]);
  if (rowCount) return 'exists';
  const outcome = await insertAccount(pool, { email, password, name: 'Administrator' }, await hashPassword(password, cost), 'admin');
  return outcome.ok ? 'created' : 'exists';
}
