// Registering, signing in, and the first admin. Emails are unique without
// regard to case; a failed sign-in costs the same whether or not the account
// exists, so timing does not reveal which emails are registered.
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ok, refuse, type Login, type Outcome, type Register, type Session, type User } from '../protocol/index.js';
import { hashPassword, verifyPassword } from './password.js';

interface UserRow { id: string; email: string; name: string; role: User['role']; created_at: Date; password_hash: string; status: string; token_version: number }

const session = (r: UserRow): Session => ({ user: toUser(r), tokenVersion: r.token_version });

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at.toISOString() });

const UNIQUE_VIOLATION = '23505';

export async function register(pool: Pool, req: Register, cost: number, role: User['role'] = 'user'): Promise<Outcome<Session>> {
  const hash = hashPassword(req.password, cost);
  try {
    const { rows } = await pool.query<UserRow>(
      `INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, email, name, role, created_at, password_hash, status, token_version`,
      [uuidv7(), req.email.trim(), req.name.trim(), hash, role]);
    return ok(session(rows[0]), 201);
  } catch (err) {
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) return refuse('EMAIL_TAKEN', 'this email is already registered');
    throw err;
  }
}

let decoy: string | undefined;

export async function login(pool: Pool, req: Login, cost: number): Promise<Outcome<Session>> {
  const { rows } = await pool.query<UserRow>(
    'SELECT id, email, name, role, created_at, password_hash, status, token_version FROM users WHERE lower(email) = lower($1)', [req.email.trim()]);
  const row = rows[0];
  decoy ??= hashPassword('decoy-password', cost);
  const matches = verifyPassword(req.password, row ? row.password_hash : decoy);
  if (!row || !matches) return refuse('INVALID_CREDENTIALS', 'email or password is wrong');
  // Said only to someone who knows the password: it reveals nothing to a guesser.
  if (row.status !== 'active') return refuse('ACCOUNT_DISABLED', 'this account is disabled; ask an administrator');
  return ok(session(row));
}

/** Creates the first admin if no account has that email; an existing account is left as it is. */
export async function ensureAdmin(pool: Pool, email: string, password: string, cost: number): Promise<'created' | 'exists'> {
  const { rowCount } = await pool.query('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email.trim()]);
  if (rowCount) return 'exists';
  const outcome = await register(pool, { email, password, name: 'Administrator' }, cost, 'admin');
  return outcome.ok ? 'created' : 'exists';
}
