// The supervisor's admin endpoint: its own Fastify on EVENTLY_ADMIN_PORT,
// with the edge's token check and problem+json errors, so an operator meets
// the same rules on both ports.
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { NatsConnection } from 'nats';
import { AccountStates } from '../../platform/http/account-states.js';
import auth from '../../platform/http/auth.js';
import { Broker } from '../../platform/broker.js';
import { installProblems } from '../../platform/http/problems.js';
import { installValidation } from '../../platform/http/validation.js';
import { adminRoutes, type AdminDeps } from './routes.js';

export interface AdminServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startAdmin(
  config: Config,
  deps: AdminDeps,
  nc: NatsConnection,
  log: Logger,
): Promise<AdminServer> {
  if (!config.jwtSecret)
    throw new Error('EVENTLY_JWT_SECRET must be set: the admin endpoint checks admin tokens with it');
  const app = Fastify({
    loggerInstance: log.child({ admin: true }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: log.level !== 'debug' && log.level !== 'trace' }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  installValidation(app);
  installProblems(app);
  // Admin tokens die with their user here too: the same account check as the edge's.
  const states = new AccountStates(
    new Broker(nc, config.shards, config.brokerTimeoutMs, undefined, config.identityKey),
    config.tokenCheckTtlMs,
  );
  states.listen(nc);
  app.addHook('onClose', async () => states.close());
  await app.register(auth, { secret: config.jwtSecret, ttlSeconds: config.jwtTtl, states });
  await app.register(adminRoutes, deps);
  const url = await app.listen({ port: config.adminPort, host: config.adminHost });
  log.info({ url }, 'admin endpoint listening');
  return { url, stop: () => app.close() };
}
