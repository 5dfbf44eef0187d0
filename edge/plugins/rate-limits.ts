// Rate limits in four tiers, counted in Redis by @fastify/rate-limit's
// RedisStore so every edge shares them: global (every client together), per
// client IP, per signed-in user, and per route for the expensive or
// sensitive routes (booking per user, register/login per IP). A request is
// counted against each tier that applies and refused by the first one over
// its limit. The x-ratelimit-* headers describe the tightest tier.
//
// Redis trouble fails open (skipOnError): losing the limits for a moment is
// better than refusing every request while Redis is away.
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { loginThrottle, noLoginThrottle, type LoginFailures } from './login-throttle.js';
import { sendProblem } from '../../platform/http/problems.js';

export type RouteTier = 'booking' | 'auth' | 'queue';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A stricter tier on top of the global, IP and user ones; 'none' exempts the route (health checks). */
    rateTier?: RouteTier | 'none';
  }
  interface FastifyInstance {
    loginFailures: LoginFailures;
  }
}

export interface RateLimitOptions {
  redis: Redis;
  config: Config;
}

/** Redis key prefix of every rate-limit counter. */
export const RATE_LIMIT_NAMESPACE = 'evently:rl:';

type Check = ReturnType<FastifyRequest['server']['createRateLimit']>;
interface Tier {
  name: string;
  key: (request: FastifyRequest) => string | undefined;
  check: Check;
}

export default fp<RateLimitOptions>(
  async (app, { redis, config }) => {
    if (!config.rateLimits) {
      app.decorate('loginFailures', noLoginThrottle);
      return;
    }
    await app.register(rateLimit, { global: false, redis, nameSpace: RATE_LIMIT_NAMESPACE, skipOnError: true });

    app.decorate('loginFailures', loginThrottle(app, config));

    const tier = (name: string, max: number, key: Tier['key'], timeWindow = config.rateWindowMs): Tier => ({
      name,
      key,
      // The key is computed before the check is called; the generator only reads it back.
      check: app.createRateLimit({ max, timeWindow, keyGenerator: (request) => `${name}:${key(request)}` }),
    });
    const userOrIp = (request: FastifyRequest) => (request.user ? `u:${request.user.sub}` : `ip:${request.ip}`);
    const common: Tier[] = [
      tier('global', config.rateGlobalMax, () => 'all'),
      tier('ip', config.rateIpMax, (request) => request.ip),
      tier('user', config.rateUserMax, (request) => request.user?.sub),
    ];
    const byRoute: Record<RouteTier, Tier[]> = {
      booking: [tier('booking', config.rateBookingMax, userOrIp)],
      auth: [tier('auth', config.rateAuthMax, (request) => request.ip)],
      // Waiting-room joins and polls: a crowd refreshing must not become the load it queues for.
      queue: [
        tier('queue-user', config.rateQueueMax, (request) => request.user?.sub),
        tier('queue-ip', config.rateQueueIpMax, (request) => request.ip),
      ],
    };

    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const routeTier = request.routeOptions.config.rateTier;
      if (routeTier === 'none') return;
      const tiers = routeTier ? [...common, ...byRoute[routeTier]] : common;
      const applicable = tiers.filter((t) => t.key(request) !== undefined);
      const results = await Promise.all(applicable.map(async (t) => ({ ...(await t.check(request)), tier: t.name })));
      let tightest: { max: number; remaining: number; ttlInSeconds: number } | undefined;
      for (const r of results) {
        if (r.isAllowed) continue;
        if (r.isExceeded) {
          const wait = Math.max(1, r.ttlInSeconds);
          reply
            .header('x-ratelimit-limit', r.max)
            .header('x-ratelimit-remaining', 0)
            .header('x-ratelimit-reset', wait)
            .header('retry-after', wait);
          return sendProblem(reply, 'RATE_LIMITED', `too many requests (${r.tier} limit); retry in ${wait} s`);
        }
        if (!tightest || r.remaining < tightest.remaining) tightest = r;
      }
      if (tightest) {
        reply
          .header('x-ratelimit-limit', tightest.max)
          .header('x-ratelimit-remaining', tightest.remaining)
          .header('x-ratelimit-reset', tightest.ttlInSeconds);
      }
    });
  },
  { name: 'evently-rate-limits', dependencies: ['evently-auth'] },
);
