// Test harness: the real system (embedded nats-server, redis-server,
// Postgres, supervisor, edge) started through the same startSystem as
// `npm start`, on free ports in a throw-away folder, plus a small HTTP client.
import type pg from 'pg';
import { loadConfig, withOverrides, type Config } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import type { System } from '../system.js';
import type { Tuple } from '../stack/probes.js';
import { startThrowawaySystem } from '../throwaway-system.js';

export type { Tuple };

export interface TestUser {
  id: string;
  token: string;
  email: string;
}

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestSystem {
  system: System;
  url: string;
  db: pg.Pool;
  adminToken: string;
  api<T = any>(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  /** A literal count gives a tuple, so `const [a, b] = await registerUsers(2)` needs no check per user. */
  registerUsers<N extends number>(count: N, prefix?: string): Promise<Tuple<TestUser, N>>;
  createEvent(fields?: Record<string, unknown>): Promise<any>;
  stop(): Promise<void>;
}

export async function startTestSystem(overrides: Partial<Record<keyof Config, unknown>> = {}): Promise<TestSystem> {
  // An empty environment: the test decides every setting, whatever the caller's shell has.
  // Rate limits and load shedding are off unless a test turns them on: most tests send far more
  // from one IP than a client would, and their clients share the edge's event loop. A fast
  // scheduler poll keeps job locks short: Agenda keeps a stopped process alive for half a lock.
  const config = withOverrides(loadConfig({}), {
    logLevel: 'error',
    kdfCost: 10,
    rateLimits: false,
    maxEventLoopDelayMs: 0,
    schedulerPollMs: 250,
    // A test's stop is fully graceful however slow the machine: the bounded stop is for people and their SIGKILLs.
    stopTimeoutMs: 600_000,
    // An edge that gives up on an actor after 5 s turns a loaded machine into 504s; tests of the timeout set their own.
    brokerTimeoutMs: 30_000,
    // Hashing and background actors at normal priority: a CI run shares the machine with CPU hogs at nice 0,
    // behind which a nice-10 thread starves (sign-ups time out; a mailer or webhooks thread did not connect
    // to NATS in 60 s, failing the system's start); the priority is not what the tests check.
    identityNice: 0,
    backgroundNice: 0,
    waitroomNice: 0,
    ...overrides,
  });
  const { system, url, db, adminToken, stop } = await startThrowawaySystem(
    config,
    'test',
    createLogger(config.logLevel),
  );

  const api: TestSystem['api'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the text */
    }
    return { status: res.status, headers: res.headers, body: parsed as any };
  };

  let eventNo = 0;
  const run = Date.now().toString(36);
  return {
    system,
    url,
    db,
    adminToken,
    api,
    stop,
    async registerUsers<N extends number>(count: N, prefix = 'user') {
      const users: TestUser[] = [];
      const password = 'correct horse battery';
      // A 5xx or timeout is retried as docs/api.md allows a client to, with the same Idempotency-Key, so a
      // retry of a sign-up whose answer was lost gets that first answer; a 503 says when to come back.
      const register = async (email: string) => {
        for (let attempt = 1; ; attempt++) {
          const r = await api('POST', '/v1/auth/register', {
            body: { email, password, name: email },
            headers: { 'idempotency-key': email },
          });
          if (r.status === 201) return { id: r.body.user.id, token: r.body.token, email };
          if (r.status < 500 || attempt >= 30)
            throw new Error(`register ${email}: ${r.status} ${JSON.stringify(r.body)}`);
          const wait = r.status === 503 ? 1000 * Math.max(1, Number(r.headers.get('retry-after')) || 1) : 200 * attempt;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      };
      for (let i = 0; i < count; i += 16) {
        const chunk = Array.from(
          { length: Math.min(16, count - i) },
          (_, j) => `${prefix}-${run}-${i + j}@example.test`,
        );
        users.push(...(await Promise.all(chunk.map(register))));
      }
      // The loop registered exactly `count`.
      return users as Tuple<TestUser, N>;
    },
    async createEvent(fields = {}) {
      const r = await api('POST', '/v1/events', {
        token: adminToken,
        body: {
          name: `Event ${++eventNo}`,
          venue: 'Hall',
          startsAt: new Date(Date.now() + 86_400_000).toISOString(),
          capacity: 100,
          price: 2500,
          ...fields,
        },
      });
      if (r.status !== 201) throw new Error(`create event: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
}
