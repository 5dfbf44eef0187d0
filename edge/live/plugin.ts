// The live side of the edge: GET /ws (WebSocket, docs/api.md) fed by the domain
// event stream, presence across edges, and the admin view of it. Everything
// the edge keeps for live clients is bounded by settings: sockets, events per
// socket, bytes per message, bytes queued per socket.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import websocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import type { NatsConnection } from 'nats';
import type { Config } from '../../platform/config.js';
import type { Broker } from '../../platform/broker.js';
import { sendProblem } from '../../platform/http/problems.js';
import { problems } from '../routes/schemas.js';
import { CheckinFeed } from './checkin-feed.js';
import { followDashboardActivity } from './dashboard-feed.js';
import { followDomainEvents } from './fan-out.js';
import { LiveHub } from './hub.js';
import { liveMetrics } from './metrics.js';
import { Presence } from './presence.js';
import { presenceRoute } from './presence-route.js';
import { QueueWatch } from './queue.js';
import { availabilityFrame, Snapshots } from './snapshots.js';
import { attachSocket, type SocketDeps } from './socket.js';
import type { DomainFeed } from '../plugins/domain-feed.js';
import type { AccountStates } from '../../platform/http/account-states.js';

export interface LiveOptions {
  nc: NatsConnection;
  /** The edge's domain event feed; the caller starts and stops it. */
  feed: DomainFeed;
  broker: Broker;
  config: Config;
  /** Account changes sign the user's sockets out at once. */
  states: AccountStates;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `queue` also answers the waiting-room polls of the users it follows (routes/waiting-room.ts). */
    live: { hub: LiveHub; presence: Presence; queue: QueueWatch };
  }
}

/** ws itself closes (1009) a frame this many times larger than the message limit, without parsing it. */
const FRAME_CAP_FACTOR = 16;
/** How long a stopping edge waits for clients to answer its close frame before cutting them off. */
const CLOSE_GRACE_MS = 1000;

export default fp<LiveOptions>(
  async (app, { nc, feed, broker, config, states }) => {
    if (config.wsHardBuffer <= config.wsSoftBuffer)
      throw new Error('EVENTLY_WS_HARD_BUFFER must be larger than EVENTLY_WS_SOFT_BUFFER');
    const hub = new LiveHub({ soft: config.wsSoftBuffer, hard: config.wsHardBuffer });
    liveMetrics(app.metrics.registry, hub);
    const presence = new Presence(
      nc,
      hub,
      { intervalMs: config.presenceIntervalMs, throttleMs: config.presenceThrottleMs },
      app.log,
    );
    const snapshots = new Snapshots(broker, (eventId) => hub.localWatchers(eventId) > 0);
    hub.onWatchersChange = (eventId, count) => {
      if (count === 0) snapshots.forget(eventId);
      presence.localChanged(eventId, count);
    };
    presence.onTotalChange = (eventId) => {
      const s = snapshots.get(eventId);
      if (s) hub.toWatchers(eventId, availabilityFrame(eventId, s, presence.watchersToSend(eventId)));
    };

    await app.register(websocket, {
      options: { maxPayload: config.wsMaxMessage * FRAME_CAP_FACTOR },
      // A client vanishing mid-frame is ordinary on the internet: not worth an error line.
      errorHandler: (err, socket, request) => {
        request.log.debug({ err }, 'websocket error');
        socket.terminate();
      },
      preClose(done) {
        for (const client of hub.clients) client.socket.close(1001, 'edge stopping');
        app.websocketServer.close(() => done());
      },
    });
    const queue = new QueueWatch(nc, broker, hub, app.log);
    app.decorate('live', { hub, presence, queue });

    followDomainEvents(feed, { hub, snapshots, presence, log: app.log });
    followDashboardActivity(feed, hub, app.log);
    const checkinFeed = new CheckinFeed(nc, hub, broker, app.log);
    checkinFeed.start();
    presence.start();
    // A client that misses a pong is gone (a dead peer leaves no FIN); it must not count as a watcher.
    let beating: Promise<void> | undefined;
    const heartbeat = setInterval(() => {
      beating ??= hub.heartbeat().finally(() => (beating = undefined));
    }, config.wsPingMs);
    heartbeat.unref();

    const deps: SocketDeps = {
      hub,
      snapshots,
      presence,
      queue,
      log: app.log,
      verify: async (token, requestId) => {
        const { claims } = await app.checkToken(token, requestId);
        return claims;
      },
      maxMessage: config.wsMaxMessage,
      maxSubscriptions: config.wsMaxSubscriptions,
      checkin: checkinFeed,
    };

    states.onChange((userId) => hub.revoke(userId));
    // A signed-in socket is a live session: its user's next request (a booking the moment the waiting
    // room admits them) finds their account state fresh, not one to wait for.
    states.keepFresh(() => hub.userIds());

    app.route({
      method: 'GET',
      url: '/ws',
      schema: {
        tags: ['live'],
        summary:
          "WebSocket: live availability of watched events, a signed-in user's bookings and waitlist entries, and the admins' dashboard feed",
        description:
          'Upgrade to a WebSocket; messages are described in docs/api.md (WebSocket /ws). ' +
          'Sign in with `Authorization: Bearer` on the upgrade or an `auth` message.',
        response: problems(400, 401, 503),
      },
      preValidation: async (request, reply) => {
        if (hub.clients.size >= config.wsMaxSockets)
          return sendProblem(reply, 'UNAVAILABLE', 'this edge has no room for another live client; try again');
        if (request.headers.authorization) await app.authenticate(request, reply);
        return reply.sent ? reply : undefined;
      },
      handler: (_request, reply) =>
        sendProblem(
          reply,
          'VALIDATION_FAILED',
          'GET /ws needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)',
        ),
      wsHandler: (socket, request) => {
        attachSocket(socket, request.id, request.headers.authorization ? request.user : undefined, deps);
      },
    });
    await app.register(presenceRoute, { hub, presence });

    app.addHook('onClose', async () => {
      clearInterval(heartbeat);
      presence.stop();
      checkinFeed.stop();
      queue.stop();
      const closing = [...hub.clients].map((client) => once(client.socket, 'close'));
      await Promise.race([Promise.all(closing), sleep(CLOSE_GRACE_MS, undefined, { ref: false })]);
      for (const client of [...hub.clients]) hub.cutOff(client);
    });
  },
  { name: 'evently-live', dependencies: ['evently-auth'] },
);
