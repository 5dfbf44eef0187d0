// Failed logins, counted in Redis (shared by every edge) in two ways:
//
// - per (account, client IP): after EVENTLY_LOGIN_FAILURES_MAX failures in
//   the failure window, that address's logins to that account wait out the
//   window (429 with retry-after). A guesser is stopped; the owner, from any
//   other address, is not.
// - per account, from every address together: past
//   EVENTLY_LOGIN_ACCOUNT_FAILURES_MAX failures in the window, every login to
//   the account is answered only after EVENTLY_LOGIN_SLOWDOWN_MS. A guesser
//   spread over many addresses is slowed (and each address still locks on
//   its own); the owner is slowed by the same delay and still signs in. The
//   account is never locked for everyone: a flood from one address cannot
//   shut its owner out. See docs/security.md.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../platform/config.js';

export interface LoginFailures {
  /** Seconds this address must wait before trying this account again; 0 = go ahead. */
  waitFor(request: FastifyRequest): Promise<number>;
  /** Milliseconds to hold this attempt back because the account is under attack from many places; 0 = none. */
  slowDown(request: FastifyRequest): Promise<number>;
  record(request: FastifyRequest): Promise<void>;
}

export const noLoginThrottle: LoginFailures = {
  waitFor: async () => 0,
  slowDown: async () => 0,
  record: async () => undefined,
};

const account = (request: FastifyRequest) => (request.body as { email: string }).email.trim().toLowerCase();

export function loginThrottle(app: FastifyInstance, config: Config): LoginFailures {
  const pair = app.createRateLimit({
    max: config.loginFailuresMax,
    timeWindow: config.loginFailureWindowMs,
    keyGenerator: (request) => `login-failures:${account(request)}:${request.ip}`,
  });
  const everywhere = app.createRateLimit({
    max: config.loginAccountFailuresMax,
    timeWindow: config.loginFailureWindowMs,
    keyGenerator: (request) => `login-failures:${account(request)}`,
  });
  const over = async (check: typeof pair, request: FastifyRequest) => {
    const r = await check(request, { increment: false });
    return !r.isAllowed && r.remaining === 0 ? Math.max(1, r.ttlInSeconds) : 0;
  };
  return {
    waitFor: (request) => over(pair, request),
    slowDown: async (request) => ((await over(everywhere, request)) > 0 ? config.loginSlowDownMs : 0),
    async record(request) {
      await Promise.all([pair(request), everywhere(request)]);
    },
  };
}
