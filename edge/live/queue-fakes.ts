// Fakes for the unit tests of QueueWatch: a NATS connection whose queue
// subscription the test drives, a hub that records each user's frame
// positions, a room tick that removes ranks and waits until applied, a room
// actor that answers `positions` for a fixed line, and one that answers polls
// (`positions` and `mine`) for tickets the test moves.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { NatsConnection } from 'nats';
import {
  ok,
  pollAfterSeconds,
  refuse,
  waitroom,
  type CallContext,
  type QueueChange,
  type QueueTicket,
} from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';
import type { LiveClient, LiveHub } from './hub.js';
import { QueueWatch } from './queue.js';

export interface WatchedRoom {
  watch: QueueWatch;
  /** Per user, the position of every frame sent to them, in order. */
  frames: Map<string, number[]>;
  /** Every frame sent: to whom, its type, and when (ms since the epoch). */
  sent: { userId: string; type: string; at: number }[];
  subscribe: (userId: string) => ReturnType<QueueWatch['subscribe']>;
  /** The user's GET .../waiting-room/me at this edge. */
  poll: (userId: string) => ReturnType<QueueWatch['poll']>;
  /** The room's tick `seq`, which removed `removed` ranks; resolves once the edge applied it. */
  tick: (seq: number, removed: number[], ratePerSecond?: number, more?: Partial<QueueChange>) => Promise<void>;
}

export function watchedRoom(eventId: string, broker: Broker): WatchedRoom {
  let onMessage: ((err: Error | null, msg: { json: () => unknown }) => void) | undefined;
  const nc = {
    subscribe: (_subject: string, opts: { callback: typeof onMessage }) => {
      onMessage = opts.callback;
      return { unsubscribe: () => undefined };
    },
  } as unknown as NatsConnection;
  const frames = new Map<string, number[]>();
  const sent: WatchedRoom['sent'] = [];
  const hub = {
    deliver: (client: LiveClient, frame: Buffer) => {
      const m = JSON.parse(String(frame)) as { position: number; type: string };
      const userId = client.userId ?? '';
      frames.set(userId, [...(frames.get(userId) ?? []), m.position]);
      sent.push({ userId, type: m.type, at: Date.now() });
      return true;
    },
  } as unknown as LiveHub;
  const watch = new QueueWatch(nc, broker, hub, { warn: () => undefined } as unknown as FastifyBaseLogger);
  return {
    watch,
    frames,
    sent,
    subscribe: (userId) => watch.subscribe({ userId } as unknown as LiveClient, eventId, 'req'),
    poll: (userId) => watch.poll(eventId, userId, { requestId: 'req', userId, role: 'user' }),
    tick: async (seq, removed, ratePerSecond = 10, more = {}) => {
      const change: QueueChange = {
        eventId,
        seq,
        epoch: 'e',
        reset: false,
        removed,
        admitted: [],
        spreadMs: 0,
        ratePerSecond,
        at: Date.now(),
        ...more,
      };
      onMessage?.(null, { json: () => change });
      await watch.settled(eventId);
    },
  };
}

/** A waiting ticket of the event's room at `position`. */
export function waitingTicket(eventId: string, position: number): QueueTicket {
  return {
    id: randomUUID(),
    eventId,
    state: 'waiting',
    position,
    estimatedWaitSeconds: null,
    pollAfterSeconds: 2,
    joinedAt: new Date().toISOString(),
    admittedAt: null,
    admission: null,
  };
}

/** What a tick's broadcast says of `userId` admitted now, for `ttlMs`. */
export function admission(userId: string, ttlMs = 600_000): QueueChange['admitted'][number] {
  const now = Date.now();
  return {
    userId,
    token: `t-${userId}`,
    expiresAt: new Date(now + ttlMs).toISOString(),
    admittedAt: new Date(now).toISOString(),
  };
}

/**
 * The room's actor for a line that does not move: each user at `rankOf(userId)`, place rank + 1.
 * `asked` gets the size of each positions request.
 */
export function lineBroker(
  eventId: string,
  rankOf: (userId: string) => number,
  { ratePerSecond = 10, seq = 0, asked = [] as number[] } = {},
): Broker {
  return {
    call: async (_op: unknown, payload: { userIds: string[] }) => {
      asked.push(payload.userIds.length);
      return ok({
        items: payload.userIds.map((userId) => {
          const rank = rankOf(userId);
          return { userId, rank, ticket: waitingTicket(eventId, rank + 1) };
        }),
        ratePerSecond,
        epoch: 'e',
        seq,
      });
    },
  } as unknown as Broker;
}

export interface PolledRoom {
  broker: Broker;
  /** The operation of each request the room was sent, in order. */
  asked: string[];
  /** The room's tick series: a positions answer reflects every change up to it. */
  seq: number;
  /** Each user's ticket and rank, as the room holds them; the test moves them. */
  tickets: Map<string, { rank: number; ticket: QueueTicket }>;
}

/** The room's actor answering polls: `positions` for live tickets, `mine` for any, as the real one does. */
export function polledRoom(eventId: string, ratePerSecond = 10): PolledRoom {
  const room: PolledRoom = {
    asked: [],
    seq: 0,
    tickets: new Map(),
    broker: {
      call: async (op: unknown, payload: { userIds: string[] }, ctx: CallContext) => {
        if (op === waitroom.mine) {
          room.asked.push('mine');
          const t = room.tickets.get(ctx.userId ?? '');
          return t ? ok(t.ticket) : refuse('NOT_FOUND', 'you are not in this waiting room');
        }
        room.asked.push('positions');
        const items = payload.userIds.map((userId) => {
          const t = room.tickets.get(userId);
          const live = t && (t.ticket.state === 'waiting' || t.ticket.state === 'admitted');
          return { userId, rank: live ? t.rank : null, ticket: live ? t.ticket : null };
        });
        return ok({ items, ratePerSecond, epoch: 'e', seq: room.seq });
      },
    } as unknown as Broker,
  };
  return room;
}

/** A waiting ticket at `position`, as the room's actor answers it at `ratePerSecond`. */
export function placedTicket(eventId: string, position: number, ratePerSecond = 10): QueueTicket {
  const estimatedWaitSeconds = Math.ceil(position / ratePerSecond);
  return {
    ...waitingTicket(eventId, position),
    estimatedWaitSeconds,
    pollAfterSeconds: pollAfterSeconds({ state: 'waiting', position, estimatedWaitSeconds }),
  };
}
