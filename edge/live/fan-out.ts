// Domain events → WebSocket frames. Every edge follows every domain subject
// (see plugins/domain-feed.ts), so each published event reaches every edge
// without a durable consumer. A frame is encoded once and written to every
// socket that should see it.
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { domainEventTypes, type DomainEvent, type DomainEventType } from '../../protocol/index.js';
import type { DomainFeed } from '../plugins/domain-feed.js';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { encode, type LiveHub } from './hub.js';
import type { Presence } from './presence.js';
import { availabilityFrame, type Snapshots } from './snapshots.js';

export interface FanOutDeps {
  hub: LiveHub;
  snapshots: Snapshots;
  presence: Presence;
  log: Logger;
}

const dataValidators = new Map<DomainEventType, ReturnType<typeof Compile<TSchema>>>();

/** Payloads forwarded to users and dashboards are checked against their schema: a client never gets a malformed entry. */
export function validData(event: DomainEvent): boolean {
  let check = dataValidators.get(event.type);
  if (!check) dataValidators.set(event.type, (check = Compile(domainEventTypes[event.type] as TSchema)));
  return check.Check(event.data);
}

/** Turns domain events from the edge's feed into frames for the sockets that should see them. */
export function followDomainEvents(feed: DomainFeed, deps: FanOutDeps): void {
  feed.on((event) => forward(event, deps));
}

function forward(event: DomainEvent, { hub, snapshots, presence, log }: FanOutDeps): void {
  const { eventId } = event;
  if (event.availability && hub.localWatchers(eventId) > 0) {
    const { available, held, price, status } = event.availability;
    const snapshot = { available, held, price, status, version: event.version };
    // Older or equal versions are redeliveries or the rest of one batch: the frame already went out.
    if (snapshots.offer(eventId, snapshot))
      hub.toWatchers(eventId, availabilityFrame(eventId, snapshot, presence.watchersToSend(eventId)));
  }
  let valid: boolean | undefined;
  const toUser = (userId: string, frame: () => Buffer) => {
    if (!hub.hasUser(userId)) return;
    if (!(valid ??= validData(event))) {
      log.warn({ type: event.type, id: event.id }, 'domain event data does not match its schema; not forwarded');
      return;
    }
    hub.toUser(userId, frame());
  };
  switch (event.type) {
    case 'booking.confirmed':
    case 'booking.cancelled':
      toUser(event.data.userId, () => encode({ type: 'booking', booking: event.data }));
      break;
    case 'waitlist.joined':
    case 'waitlist.changed':
      toUser(event.data.userId, () => encode({ type: 'waitlist', entry: event.data }));
      break;
    case 'waitlist.positions':
      for (const { entryId, userId, position } of event.data.entries) {
        toUser(userId, () =>
          encode({ type: 'waitlist', entry: { id: entryId, eventId, userId, position, status: 'waiting' } }),
        );
      }
      break;
  }
}
