// Bearer JWT authentication with two roles. Routes opt in with
// `preHandler: app.authenticate` or `app.requireAdmin`.
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

export interface AuthOptions { secret: string; ttlSeconds: number }

export default fp<AuthOptions>(async (app, { secret, ttlSeconds }) => {
  await app.register(fastifyJwt, { secret, sign: { expiresIn: ttlSeconds } });

  app.decorate('issueToken', (user: User) => app.jwt.sign({ sub: user.id, role: user.role }));

  app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await request.jwtVerify();
    } catch {
      await sendProblem(reply, 'UNAUTHENTICATED', 'a valid bearer token is required');
    }
  });

  app.decorate('requireAdmin', async (request: FastifyRequest, reply: FastifyReply) => {
    await app.authenticate(request, reply);
    if (reply.sent) return;
    if (request.user.role !== 'admin') await sendProblem(reply, 'FORBIDDEN', 'admins only');
  });
}, { name: 'evently-auth' });
