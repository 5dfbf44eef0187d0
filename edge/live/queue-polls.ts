// The pollers of GET .../waiting-room/me that this edge answers itself. A
// poller whose ticket has a place follows the room like a socket (queue.ts
// moves the place at every tick); kept here is what else its answer needs:
// the ticket's id and joinedAt, and the admission once a tick admitted it.
// The answers are built as the room's actor builds them (estimate, interval),
// so a client cannot tell which of the two answered. A client that stopped
// polling is forgotten after twice the interval it was last told, and 10 s.
import { estimateSeconds, pollAfterSeconds, type QueueChange, type QueueTicket } from '../../protocol/index.js';

export interface Poll {
  ticketId: string;
  joinedAt: string;
  /** Forgotten after this (ms since the epoch) unless polled again. */
  idleAt: number;
  /** Once a tick admitted the user: the answer until the admission expires. */
  admitted: QueueTicket | null;
}

/** Beyond twice the interval a client was told: late polls of a busy client still find their entry. */
const GRACE_MS = 10_000;

export class Polls {
  private readonly rooms = new Map<string, Map<string, Poll>>();

  get(eventId: string, userId: string): Poll | undefined {
    return this.rooms.get(eventId)?.get(userId);
  }

  /** The user's polls are answered here from now on, from their waiting `ticket` as the room gave it. */
  follow(eventId: string, userId: string, ticket: QueueTicket, now: number): Poll {
    let users = this.rooms.get(eventId);
    if (!users) this.rooms.set(eventId, (users = new Map<string, Poll>()));
    const p = users.get(userId) ?? { ticketId: ticket.id, joinedAt: ticket.joinedAt, idleAt: 0, admitted: null };
    Object.assign(p, { ticketId: ticket.id, joinedAt: ticket.joinedAt, admitted: null });
    users.set(userId, p);
    answered(p, ticket, now);
    return p;
  }

  delete(eventId: string, userId: string): void {
    const users = this.rooms.get(eventId);
    users?.delete(userId);
    if (users?.size === 0) this.rooms.delete(eventId);
  }

  /** Forgets every entry not polled in time, telling `gone` about each. */
  sweep(now: number, gone: (eventId: string, userId: string) => void): void {
    for (const [eventId, users] of this.rooms)
      for (const [userId, p] of users)
        if (p.idleAt < now) {
          this.delete(eventId, userId);
          gone(eventId, userId);
        }
  }
}

/** `ticket` answers a poll now: its client is expected back within the interval it is told. */
export function answered(p: Poll, ticket: QueueTicket, now: number): QueueTicket {
  p.idleAt = now + 2_000 * (ticket.pollAfterSeconds ?? 0) + GRACE_MS;
  return ticket;
}

/** A followed poller waiting at `position`, as the room's actor answers it at that rate. */
export function waitingAnswer(eventId: string, p: Poll, position: number, ratePerSecond: number): QueueTicket {
  const estimatedWaitSeconds = estimateSeconds(position, ratePerSecond);
  return {
    id: p.ticketId,
    eventId,
    state: 'waiting',
    position,
    estimatedWaitSeconds,
    pollAfterSeconds: pollAfterSeconds({ state: 'waiting', position, estimatedWaitSeconds }),
    joinedAt: p.joinedAt,
    admittedAt: null,
    admission: null,
  };
}

/** The ticket of a poller a tick admitted, as the room's actor answers it while the admission is valid. */
export function admittedTicket(eventId: string, p: Poll, a: QueueChange['admitted'][number]): QueueTicket {
  return {
    id: p.ticketId,
    eventId,
    state: 'admitted',
    position: null,
    estimatedWaitSeconds: 0,
    pollAfterSeconds: pollAfterSeconds({ state: 'admitted', position: null, estimatedWaitSeconds: 0 }),
    joinedAt: p.joinedAt,
    admittedAt: a.admittedAt,
    admission: { token: a.token, expiresAt: a.expiresAt },
  };
}
