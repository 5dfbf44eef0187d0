// The booking path's waiting-room guard. The edge keeps the set of events
// with a room on in memory: loaded from the waiting-room actor at start (and
// again every 30 s, which also heals a missed broadcast), and kept current
// by the actor's core NATS broadcast. Booking such an event needs an
// admission token for this user and event, checked here by its HMAC: no
// broker round trip, and for an event without a room, one Set lookup.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { NatsConnection, Subscription } from 'nats';
import {
  ADMISSION_HEADER,
  admissionKey,
  admissionProblem,
  ROOMS_SUBJECT,
  waitroom,
  type RoomChange,
} from '../../protocol/index.js';
import type { Config } from '../../platform/config.js';
import type { Broker } from '../../platform/broker.js';
import { sendProblem } from '../../platform/http/problems.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler after authenticate on routes that book an event (params.id). */
    requireAdmission: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    waitingRooms: ReadonlySet<string>;
  }
}

export interface AdmissionOptions {
  nc: NatsConnection;
  broker: Broker;
  config: Config;
}

const REFRESH_MS = 30_000;
const RETRY_MS = 2_000;

export default fp<AdmissionOptions>(
  async (app, { nc, broker, config }) => {
    const key = admissionKey(config.admissionSecret, config.jwtSecret);
    const rooms = new Set<string>();
    let loaded = false;

    const load = async (): Promise<boolean> => {
      const outcome = await broker.call(waitroom.roomIds, {}, { requestId: 'edge-room-load' });
      if (!outcome.ok) return false;
      rooms.clear();
      for (const id of outcome.value.eventIds) rooms.add(id.toLowerCase());
      loaded = true;
      return true;
    };
    const sub: Subscription = nc.subscribe(ROOMS_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const change = msg.json<RoomChange>();
          if (change.enabled) rooms.add(change.eventId.toLowerCase());
          else rooms.delete(change.eventId.toLowerCase());
        } catch (e) {
          app.log.warn({ err: e }, 'bad waiting-room broadcast ignored');
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(
        () => {
          load()
            .catch(() => false)
            .then(
              (done) => {
                if (!done) app.log.warn('waiting rooms not loaded; retrying');
                schedule();
              },
              () => schedule(),
            );
        },
        loaded ? REFRESH_MS : RETRY_MS,
      );
      timer.unref();
    };
    await load().catch(() => false);
    if (!loaded) app.log.warn('waiting rooms not loaded at start; retrying every 2 s');
    schedule();
    app.addHook('onClose', async () => {
      if (timer) clearTimeout(timer);
      sub.unsubscribe();
    });

    app.decorate('waitingRooms', rooms);
    app.decorate('requireAdmission', async (request: FastifyRequest, reply: FastifyReply) => {
      const eventId = (request.params as { id?: string }).id?.toLowerCase();
      if (!eventId || !rooms.has(eventId) || !request.user) return;
      const header = request.headers[ADMISSION_HEADER];
      const problem = admissionProblem(key, typeof header === 'string' ? header : undefined, request.user.sub, eventId);
      if (problem) await sendProblem(reply, 'NOT_ADMITTED', problem);
    });
  },
  { name: 'evently-admission', dependencies: ['evently-auth'] },
);
