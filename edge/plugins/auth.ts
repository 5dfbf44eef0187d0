// Bearer JWT authentication. The token is verified once per request, in
// onRequest, so the rate limits can count by user before any route work;
// routes opt in with `onRequest: app.authenticate` or `app.requireAdmin`, also
// in onRequest, so a request without a valid token is 401 (and a user on an
// admin route 403) before its body is parsed or validated. Bearer only: no
// cookie is ever read, so no ambient credential exists for a cross-site
// request to abuse.
import fastifyJwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Role, User } from '../../actors/protocol/index.js';
import { sendProblem } from './problems.js';

export interface TokenClaims { sub: string; role: Role }

declare module '@fastify/jwt' {
  interface FastifyJWT { payload: TokenClaims; user: TokenClaims }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    issueToken: (user: User) => string;
  }
}

export interface AuthOptions {
  secret: string;
  /** The secret before the last rotation: still verifies, never signs. */
  previousSecret?: string;
  ttlSeconds: number;
}

const BEARER = /^Bearer\s+(\S+)$/i;

function isClaims(value: unknown): value is TokenClaims {
  const v = value as Partial<TokenClaims> | null;
  return typeof v?.sub === 'string' && (v.role === 'user' || v.role === 'admin');
}

export default fp<AuthOptions>(async (app, { secret, previousSecret, ttlSeconds }) => {
  await app.register(fastifyJwt, { secret, sign: { expiresIn: ttlSeconds } });

  const verify = (token: string): TokenClaims | undefined => {
    for (const key of previousSecret ? [undefined, previousSecret] : [undefined]) {
      try {
        const claims: unknown = key ? app.jwt.verify(token, { key }) : app.jwt.verify(token);
        if (isClaims(claims)) return { sub: claims.sub, role: claims.role };
      } catch {
        // expired, forged or signed with another key: try the next key, else anonymous
      }
    }
    return undefined;
  };

  app.decorate('issueToken', (user: User) => app.jwt.sign({ sub: user.id, role: user.role }));

  // A bad token leaves the request anonymous; only routes that need a user refuse it.
  app.addHook('onRequest', async (request) => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const claims = token ? verify(token) : undefined;
    if (claims) request.user = claims;
  });

  app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.user) await sendProblem(reply, 'UNAUTHENTICATED', 'a valid bearer token is required');
  });

  app.decorate('requireAdmin', async (request: FastifyRequest, reply: FastifyReply) => {
    await app.authenticate(request, reply);
    if (reply.sent) return;
    if (request.user.role !== 'admin') await sendProblem(reply, 'FORBIDDEN', 'admins only');
  });
}, { name: 'evently-auth' });
