// The booking path's waiting-room guard. The edge keeps the set of events
// with a room on in memory: loaded from the waiting-room actor at start (and
// again every 30 s, which also heals a missed broadcast), and kept current
// by the actor's core NATS broadcast. Booking such an event needs an
// admission token for this user and event, checked here by its HMAC: no
// broker round trip, and for an event without a room, one Set lookup.
// Once a second, for each event with a room that had bookings here, the edge
// tells the waiting-room actors how long it took to answer them (p90): the
// latency signal of the adaptive admission pace.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { NatsConnection, Subscription } from 'nats';
import { randomUUID } from 'node:crypto';
import {
  ADMISSION_HEADER,
  admissionKey,
  admissionProblem,
  bookingPaceSubject,
  ROOMS_SUBJECT,
  type BookingPace,
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
    /** onResponse of those routes: the booking's time, for the event's admission pace. */
    noteBookingTime: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    waitingRooms: ReadonlySet<string>;
  }
  interface FastifyRequest {
    /** The event with a room whose admission this request passed. */
    admittedTo?: string;
  }
}

export interface AdmissionOptions {
  nc: NatsConnection;
  broker: Broker;
  config: Config;
}

const REFRESH_MS = 30_000;
const RETRY_MS = 2_000;
const PACE_MS = 1_000;

/** The nearest-rank p90 of a second's booking times. */
function p90(ms: readonly number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.9) - 1)] ?? 0;
}

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
    // Booking times per event with a room, reported and cleared once a second.
    const edge = randomUUID();
    const times = new Map<string, number[]>();
    const pace = setInterval(() => {
      for (const [eventId, ms] of times) {
        const report: BookingPace = { eventId, edge, count: ms.length, p90Ms: Math.round(p90(ms) * 10) / 10 };
        nc.publish(bookingPaceSubject(eventId), JSON.stringify(report));
      }
      times.clear();
    }, PACE_MS);
    pace.unref();
    app.addHook('onClose', async () => {
      if (timer) clearTimeout(timer);
      clearInterval(pace);
      sub.unsubscribe();
    });

    app.decorate('waitingRooms', rooms);
    app.decorate('requireAdmission', async (request: FastifyRequest, reply: FastifyReply) => {
      const eventId = (request.params as { id?: string }).id?.toLowerCase();
      if (!eventId || !rooms.has(eventId) || !request.user) return;
      const header = request.headers[ADMISSION_HEADER];
      const problem = admissionProblem(key, typeof header === 'string' ? header : undefined, request.user.sub, eventId);
      if (problem) await sendProblem(reply, 'NOT_ADMITTED', problem);
      else request.admittedTo = eventId;
    });
    app.decorate('noteBookingTime', async (request: FastifyRequest, reply: FastifyReply) => {
      const eventId = request.admittedTo;
      if (!eventId) return;
      const list = times.get(eventId);
      if (list) list.push(reply.elapsedTime);
      else times.set(eventId, [reply.elapsedTime]);
    });
  },
  { name: 'evently-admission', dependencies: ['evently-auth'] },
);
