// Bearer JWT authentication. The token is verified once per request, in
// onRequest, so the rate limits can count by user before any route work;
// routes opt in with `onRequest: app.authenticate` or `app.requireAdmin`, also
// in onRequest, so a request without a valid token is 401 (and a user on an
// admin route 403) before its body is parsed or validated. A verified token
// is then checked against its user's account (account-states.ts): a deleted
// or disabled user, a changed role or a bumped token version is 401 at once.
// Bearer only: no cookie is ever read, so no ambient credential exists for a
// cross-site request to abuse.
import fastifyJwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isRole, type Session } from '../../protocol/index.js';
import { revoked, type AccountStates, type TokenClaims } from './account-states.js';
import { sendProblem } from './problems.js';

export type { TokenClaims } from './account-states.js';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims & { iat?: number };
    user: TokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    requireStaff: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** `issuedAtMs`: sign as of that time (a replayed sign-up gets the same token), if the token would still have over half its life. */
    issueToken: (session: Session, issuedAtMs?: number) => string;
    /** Verifies a token and checks it against its user's account: the claims, or why not. */
    checkToken: (
      token: string,
      requestId: string,
    ) => Promise<{ claims?: TokenClaims; refusal?: string; unavailable?: boolean }>;
  }
  interface FastifyRequest {
    /** Why a token that verified was refused (revoked, user disabled), for the 401's detail. */
    tokenRefusal?: string;
  }
}

export interface AuthOptions {
  secret: string;
  /** The secret before the last rotation: still verifies, never signs. */
  previousSecret?: string;
  ttlSeconds: number;
  states: AccountStates;
}

const BEARER = /^Bearer\s+(\S+)$/i;
// A flash sale's crowd is tens of thousands of clients, each polling with its own token: an LRU
// smaller than the crowd misses on every request of a crowd polling in turn (20,000 people against
// 10,000 entries did). An entry is a token and its claims, under 0.5 KB: at most ~50 MB.
const VERIFIED_TOKEN_CACHE = 100_000;

function isClaims(value: unknown): value is TokenClaims {
  const v = value as Partial<TokenClaims> | null;
  return typeof v?.sub === 'string' && isRole(v.role) && (v.ver === undefined || Number.isInteger(v.ver));
}

export default fp<AuthOptions>(
  async (app, { secret, previousSecret, ttlSeconds, states }) => {
    // Verified tokens are cached (fast-jwt's LRU, bounded by each token's own expiry):
    // a client's every request carries the same token, and the signature check was
    // the edge's largest per-request cost after routing. Revocation does not depend
    // on it: account states are checked on every request below.
    await app.register(fastifyJwt, {
      secret,
      sign: { expiresIn: ttlSeconds },
      verify: { cache: VERIFIED_TOKEN_CACHE },
    });

    const verify = (token: string): TokenClaims | undefined => {
      for (const key of previousSecret ? [undefined, previousSecret] : [undefined]) {
        try {
          const claims: unknown = key ? app.jwt.verify(token, { key }) : app.jwt.verify(token);
          if (isClaims(claims)) return { sub: claims.sub, role: claims.role, ver: claims.ver ?? 0, exp: claims.exp };
        } catch {
          // expired, forged or signed with another key: try the next key, else anonymous
        }
      }
      return undefined;
    };

    app.decorate('issueToken', ({ user, tokenVersion }: Session, issuedAtMs?: number) => {
      // Identity just answered for this user: their next requests need not ask it again.
      states.seed({ userId: user.id, role: user.role, status: 'active', tokenVersion });
      const claims = { sub: user.id, role: user.role, ver: tokenVersion };
      const fresh = issuedAtMs === undefined || Date.now() - issuedAtMs > (ttlSeconds * 1000) / 2;
      return app.jwt.sign(fresh ? claims : { ...claims, iat: Math.floor(issuedAtMs / 1000) });
    });

    app.decorate('checkToken', async (token: string, requestId: string) => {
      const claims = verify(token);
      if (!claims) return { refusal: 'token is not valid or has expired' };
      const state = await states.current(claims.sub, requestId);
      if (state === undefined) return { unavailable: true };
      const refusal = revoked(claims, state);
      return refusal ? { refusal } : { claims };
    });

    // A bad token leaves the request anonymous; only routes that need a user refuse it.
    app.addHook('onRequest', async (request, reply) => {
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!token) return;
      const { claims, refusal, unavailable } = await app.checkToken(token, request.id);
      if (unavailable)
        return sendProblem(reply, 'UNAVAILABLE', 'the token could not be checked right now; retry shortly');
      if (claims) request.user = claims;
      else request.tokenRefusal = refusal;
    });

    app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.user)
        await sendProblem(reply, 'UNAUTHENTICATED', request.tokenRefusal ?? 'a valid bearer token is required');
    });

    app.decorate('requireAdmin', async (request: FastifyRequest, reply: FastifyReply) => {
      await app.authenticate(request, reply);
      if (reply.sent) return;
      if (request.user.role !== 'admin') await sendProblem(reply, 'FORBIDDEN', 'admins only');
    });

    // Door staff: check-in and its figures. Admins may do whatever staff may.
    app.decorate('requireStaff', async (request: FastifyRequest, reply: FastifyReply) => {
      await app.authenticate(request, reply);
      if (reply.sent) return;
      if (request.user.role !== 'staff' && request.user.role !== 'admin')
        await sendProblem(reply, 'FORBIDDEN', 'staff or admins only');
    });
  },
  { name: 'evently-auth' },
);
