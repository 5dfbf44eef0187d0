// The edge: Fastify in front of the broker. It authenticates, validates with
// the protocol's schemas, forwards to actors by NATS request-reply and maps
// their outcomes to HTTP. It holds no state of its own.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { natsOptions } from '../platform/nats-connect.js';
import { openRedis } from '../platform/resources.js';
import admission from './plugins/admission.js';
import audit from './plugins/audit.js';
import { AccountStates } from '../platform/http/account-states.js';
import auth from '../platform/http/auth.js';
import { Broker } from '../platform/broker.js';
import { DomainFeed } from './plugins/domain-feed.js';
import { EventCache } from './plugins/event-cache.js';
import metricsPlugin, { edgeMetrics } from './plugins/metrics.js';
import { installJsonBody } from '../platform/http/json-body.js';
import { installOpenApi } from './plugins/openapi.js';
import { clientErrorHandler, frameworkErrors, installProblems } from '../platform/http/problems.js';
import rateLimits from './plugins/rate-limits.js';
import security from './plugins/security.js';
import { installRequestId, requestIdFrom } from './plugins/request-id.js';
import { childLoggerWithTrace, installTraceContext } from './plugins/trace-context.js';
import { installValidation } from '../platform/http/validation.js';
import type { EdgeDeps } from './deps.js';
import { dashboardRoutes } from './dashboard/plugin.js';
import live from './live/plugin.js';
import { adminRoutes } from './routes/admin.js';
import { userRoutes } from './routes/users.js';
import { analyticsRoutes } from './routes/analytics.js';
import { authRoutes } from './routes/auth.js';
import { bookingRoutes } from './routes/bookings.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { pricingRoutes } from './routes/pricing.js';
import { mailRoutes } from './routes/mail.js';
import { waitingRoomRoutes } from './routes/waiting-room.js';
import { waitlistRoutes } from './routes/waitlist.js';
import { checkinRoutes } from './routes/checkin.js';
import { ticketRoutes } from './routes/tickets.js';
import { pageRoutes } from './pages/plugin.js';
import { webhookRoutes } from './routes/webhooks.js';

export const API_VERSION = '1.0.0';

/** How often Node looks for requests past their headers or request timeout. */
const CONNECTION_CHECK_MS = 1000;

export interface Edge {
  readonly app: FastifyInstance;
  readonly url: string;
  stop(): Promise<void>;
}

export async function buildEdge(
  config: Config,
  nc: NatsConnection,
  redis: Redis,
  log: Logger,
): Promise<FastifyInstance> {
  if (!config.jwtSecret) throw new Error('EVENTLY_JWT_SECRET is not set');
  if (!config.identityKey) throw new Error('EVENTLY_IDENTITY_KEY is not set');
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    genReqId: requestIdFrom,
    childLoggerFactory: childLoggerWithTrace,
    bodyLimit: config.bodyLimit,
    // Slow clients (docs/security.md): a stalled body or header block is cut off with 408, not held for ever.
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    maxRequestsPerSocket: config.httpMaxRequestsPerSocket,
    http: {
      headersTimeout: Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs),
      // Node checks the two timeouts above this often (default 30 s, which would double them).
      connectionsCheckingInterval: CONNECTION_CHECK_MS,
    },
    // Per-request lines only at debug: at flash-sale rates they would cost more than the requests.
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: log.level !== 'debug' && log.level !== 'trace',
    }),
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
    // request.ip believes X-Forwarded-For only from these proxies (HAProxy); from anyone else it is the socket's peer.
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only; anything else is 415 rather than a string body.
  app.removeContentTypeParser('text/plain');
  installJsonBody(app);
  installValidation(app);
  installProblems(app);
  installRequestId(app);
  installTraceContext(app);
  const metrics = edgeMetrics();
  await app.register(metricsPlugin, { metrics });
  await app.register(security, { config });
  await installOpenApi(app, API_VERSION);
  const broker = new Broker(
    nc,
    config.shards,
    config.brokerTimeoutMs,
    metrics.natsRequest,
    config.identityKey,
    config.unservedWaitMs,
  );
  const states = new AccountStates(broker, config.tokenCheckTtlMs);
  states.listen(nc);
  app.addHook('onClose', async () => states.close());
  await app.register(auth, {
    secret: config.jwtSecret,
    previousSecret: config.jwtPreviousSecret,
    ttlSeconds: config.jwtTtl,
    states,
  });
  await app.register(rateLimits, { redis, config });
  await app.register(audit, { nc });

  const events = new EventCache(
    redis,
    { l1TtlMs: config.cacheL1TtlMs, l2TtlMs: config.cacheL2TtlMs, maxEntries: config.cacheMaxEntries },
    log,
  );
  const feed = new DomainFeed(log);
  events.listen(feed);
  app.addHook('onClose', async () => {
    feed.stop();
    events.close();
  });
  const deps: EdgeDeps = { broker, shards: config.shards, disabledPools: config.disabledPools, events };
  await app.register(admission, { nc, broker: deps.broker, config });
  await app.register(healthRoutes, deps);
  await app.register(authRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(bookingRoutes, deps);
  await app.register(waitlistRoutes, deps);
  await app.register(ticketRoutes, deps);
  await app.register(checkinRoutes, deps);
  await app.register(pageRoutes, { broker: deps.broker, config });
  await app.register(pricingRoutes, deps);
  await app.register(live, { nc, feed, broker: deps.broker, config, states });
  // After live: polls of a followed user are answered by its QueueWatch.
  await app.register(waitingRoomRoutes, deps);
  feed.start(nc);
  await app.register(adminRoutes, deps);
  await app.register(userRoutes, deps);
  await app.register(dashboardRoutes);
  await app.register(mailRoutes, deps);
  await app.register(webhookRoutes, deps);
  await app.register(analyticsRoutes, { ...deps, nc });
  return app;
}

export async function startEdge(config: Config, log: Logger): Promise<Edge> {
  const nc = await connect(
    natsOptions(config, 'edge', { name: 'evently-edge', noAsyncTraces: true, maxReconnectAttempts: -1 }),
  );
  const redis = openRedis(config, log);
  let app: FastifyInstance;
  try {
    app = await buildEdge(config, nc, redis, log);
  } catch (err) {
    redis.disconnect();
    await nc.close();
    throw err;
  }
  const address = await app.listen({ port: config.httpPort, host: config.httpHost });
  log.info({ url: address }, 'edge listening');
  return {
    app,
    url: address,
    async stop() {
      await app.close();
      await nc.drain();
      redis.disconnect();
    },
  };
}
