// Accounts and sign-in. Emails are unique without regard to case; a failed
// sign-in costs the same whether or not the account exists, so timing does
// not reveal which emails are registered. Registering, with its idempotency
// and back-pressure, is register.ts.
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ok, refuse, type Login, type Outcome, type Register, type Session, type User } from '../../protocol/index.js';
import { hashPassword, verifyPassword, type Derive } from './password.js';

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: User['role'];
  created_at: Date;
  password_hash: string;
  status: string;
  token_version: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  createdAt: r.created_at.toISOString(),
});

const session = (r: UserRow): Session => ({ user: toUser(r), tokenVersion: r.token_version });

/**
 * Inserts the account with an already hashed password. A taken email is a
 * refusal, not an error, so it can be stored as an idempotent outcome in the
 * caller's transaction (DO NOTHING leaves that transaction usable).
 */
export async function insertAccount(
  db: Pool | PoolClient,
  req: Register,
  passwordHash: string,
  role: User['role'] = 'user',
): Promise<Outcome<Session>> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING id, email, name, role, created_at, password_hash, status, token_version`,
    [uuidv7(), req.email.trim(), req.name.trim(), passwordHash, role],
  );
  return rows[0] ? ok(session(rows[0]), 201) : refuse('EMAIL_TAKEN', 'this email is already registered');
}

export async function passwordHashOf(db: Pool | PoolClient, userId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]);
  return rows[0]?.password_hash;
}

let decoy: Promise<string> | undefined;

export async function login(pool: Pool, req: Login, cost: number, derive: Derive): Promise<Outcome<Session>> {
  const { rows } = await pool.query<UserRow>(
    'SELECT id, email, name, role, created_at, password_hash, status, token_version FROM users WHERE lower(email) = lower($1)',
    [req.email.trim()],
  );
  const row = rows[0];
  decoy ??= hashPassword('decoy-password', cost, derive);
  const matches = await verifyPassword(req.password, row ? row.password_hash : await decoy, derive);
  if (!row || !matches) return refuse('INVALID_CREDENTIALS', 'email or password is wrong');
  // Said only to someone who knows the password: it reveals nothing to a guesser.
  if (row.status !== 'active') return refuse('ACCOUNT_DISABLED', 'this account is disabled; ask an administrator');
  return ok(session(row));
}

/** Creates the first admin if no account has that email; an existing account is left as it is. */
export async function ensureAdmin(
  pool: Pool,
  email: string,
  password: string,
  cost: number,
): Promise<'created' | 'exists'> {
  const { rowCount } = await pool.query('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email.trim()]);
  if (rowCount) return 'exists';
  const outcome = await insertAccount(
    pool,
    { email, password, name: 'Administrator' },
    await hashPassword(password, cost),
    'admin',
  );
  return outcome.ok ? 'created' : 'exists';
}
