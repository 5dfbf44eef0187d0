// The few API calls the benchmark needs to set a scene (an event, a crowd
// of users), made through the public HTTP API like any client,
// so the set-up also proves the routes it relies on answer as docs/api.md says.
import { randomBytes } from 'node:crypto';

export interface EventSpec {
  name: string;
  capacity: number;
  maxTicketsPerUser: number;
  /** e.g. a dynamic policy, so the pricing actor has real work during a sale. */
  pricing?: Record<string, unknown>;
}

async function call<T>(
  base: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(new URL(path, base), { method, headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

async function expect<T>(
  base: string,
  method: string,
  path: string,
  want: number,
  body: unknown,
  token?: string,
): Promise<T> {
  const res = await call<T>(base, method, path, body, token);
  if (res.status !== want)
    throw new Error(`${method} ${path}: expected ${want}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createEvent(base: string, adminToken: string, spec: EventSpec): Promise<string> {
  const event = await expect<{ id: string }>(
    base,
    'POST',
    '/v1/events',
    201,
    {
      name: spec.name,
      venue: 'Bench Arena',
      // Far enough ahead that no run can reach it and make the event unbookable.
      startsAt: new Date(Date.now() + 30 * 24 * 3600_000).toISOString(),
      capacity: spec.capacity,
      price: 2500,
      maxTicketsPerUser: spec.maxTicketsPerUser,
      ...(spec.pricing ? { pricing: spec.pricing } : {}),
    },
    adminToken,
  );
  return event.id;
}

/** A unique address per call, so repeated runs and concurrent loops never collide on EMAIL_TAKEN. */
export function freshEmail(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}@bench.evently.test`;
}

export const BENCH_PASSWORD = 'bench-password-1';

/** One register call; returns its HTTP status so a load loop can count outcomes. */
export async function registerOnce(base: string, prefix: string): Promise<{ status: number; token?: string }> {
  const res = await call<{ token?: string }>(base, 'POST', '/v1/auth/register', {
    email: freshEmail(prefix),
    password: BENCH_PASSWORD,
    name: 'Bench User',
  });
  return { status: res.status, token: res.status === 201 ? res.body.token : undefined };
}

/**
 * Registers `count` users, `concurrency` at a time: registration runs scrypt
 * on the identity actor, and flooding it would only queue behind one thread.
 */
export async function registerUsers(base: string, count: number, concurrency = 8): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      let res = await registerOnce(base, 'crowd');
      // Shed (503) or slow (504) under load: retryable, as API.md says.
      for (let attempt = 1; attempt < 20 && (res.status === 503 || res.status === 504); attempt++) {
        await new Promise((r) => setTimeout(r, 500));
        res = await registerOnce(base, 'crowd');
      }
      if (!res.token) throw new Error(`register: expected 201, got ${res.status}`);
      tokens.push(res.token);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return tokens;
}
