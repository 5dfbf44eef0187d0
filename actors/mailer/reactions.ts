// The mails each domain event owes, planned inside the transaction that
// marks the event consumed (so planning happens once, and is never lost):
//   booking.confirmed → booking-confirmed to the booker
//   booking.cancelled → booking-cancelled to the booker; when the event itself
//                       was cancelled (availability.status is 'cancelled':
//                       inventory cancels every booking in the event's own
//                       cancellation) → event-cancelled instead, so nobody
//                       gets two mails about one cancellation
//   waitlist.joined   → waitlist-joined to the person waiting
//   hold.created      → waitlist-offer, with the expiry and the confirm link
//   event.reminder    → event-reminder to everyone with confirmed tickets
//   event.created     → nothing sent; the state is kept for later diffs
//   event.updated     → event-changed to everyone with confirmed tickets, when
//                       the name, venue or times changed
// event.cancelled itself is not read: the booking.cancelled events of the
// same transaction name exactly the bookings it ended.
import type { PoolClient } from 'pg';
import type { Booking, DomainEvent, DomainEventType } from '../../protocol/index.js';
import type { Intent } from './deliveries.js';
import { recordEventState } from './event-changes.js';
import type { MailEvent } from './mail-data.js';

export const CONSUMER = 'mailer';

export const REACTS_TO = [
  'booking.confirmed',
  'booking.cancelled',
  'waitlist.joined',
  'hold.created',
  'event.reminder',
  'event.created',
  'event.updated',
] as const satisfies readonly DomainEventType[];

export interface MailPolicy {
  /** Where people reach Evently; links in mails start with it. */
  publicUrl: string;
}

const STARTS_IN = { '24h': 'in 24 hours', '1h': 'in 1 hour' } as const;

interface EventRow {
  id: string;
  name: string;
  venue: string;
  starts_at: Date;
  ends_at: Date | null;
  status: string;
}

type EventLookup = (eventId: string) => Promise<{ event: MailEvent; status: string } | undefined>;

/** Reads an event's mailed fields once per batch: a flash sale's hundred bookings share one read. */
export function eventLookup(client: PoolClient): EventLookup {
  const seen = new Map<string, Promise<{ event: MailEvent; status: string } | undefined>>();
  return (eventId) => {
    let found = seen.get(eventId);
    if (!found) {
      found = client
        .query<EventRow>({
          name: 'mail.read-event',
          text: 'SELECT id, name, venue, starts_at, ends_at, status FROM events WHERE id = $1',
          values: [eventId],
        })
        .then(
          ({ rows: [r] }) =>
            r && {
              event: {
                id: r.id,
                name: r.name,
                venue: r.venue,
                startsAt: r.starts_at.toISOString(),
                endsAt: r.ends_at?.toISOString() ?? null,
              },
              status: r.status,
            },
        );
      seen.set(eventId, found);
    }
    return found;
  };
}

/** Everyone with confirmed tickets for the event, and how many. */
async function ticketHolders(client: PoolClient, eventId: string): Promise<{ user_id: string; tickets: number }[]> {
  const { rows } = await client.query<{ user_id: string; tickets: number }>(
    `SELECT user_id, sum(quantity)::int AS tickets FROM bookings WHERE event_id = $1 AND status = 'confirmed' GROUP BY user_id`,
    [eventId],
  );
  return rows;
}

async function toBooker(
  readEvent: EventLookup,
  template: 'booking-confirmed' | 'booking-cancelled' | 'event-cancelled',
  booking: Booking,
): Promise<Planned[]> {
  const found = await readEvent(booking.eventId);
  if (!found) return [];
  const { id, quantity, totalPrice, currency } = booking;
  return [
    { template, userId: booking.userId, data: { event: found.event, booking: { id, quantity, totalPrice, currency } } },
  ];
}

/** What plan() returns: the intent before it is tied to its domain event. */
type Planned = Omit<Intent, 'cause'>;

export const confirmUrl = (publicUrl: string, holdId: string): string =>
  `${publicUrl.replace(/\/+$/, '')}/v1/holds/${holdId}/confirm`;

/** The mails one domain event owes (in the transaction that records it consumed). */
export async function plan(
  client: PoolClient,
  readEvent: EventLookup,
  event: DomainEvent,
  policy: MailPolicy,
): Promise<Planned[]> {
  switch (event.type) {
    case 'booking.confirmed':
      return toBooker(readEvent, 'booking-confirmed', event.data);
    case 'booking.cancelled':
      return toBooker(
        readEvent,
        event.availability?.status === 'cancelled' ? 'event-cancelled' : 'booking-cancelled',
        event.data,
      );
    case 'waitlist.joined': {
      const found = await readEvent(event.eventId);
      const { userId, quantity, position } = event.data;
      return found
        ? [{ template: 'waitlist-joined', userId, data: { event: found.event, entry: { quantity, position } } }]
        : [];
    }
    case 'hold.created': {
      const found = await readEvent(event.eventId);
      const { id, userId, quantity, expiresAt } = event.data;
      return found
        ? [
            {
              template: 'waitlist-offer',
              userId,
              data: {
                event: found.event,
                hold: { id, quantity, expiresAt },
                confirmUrl: confirmUrl(policy.publicUrl, id),
              },
            },
          ]
        : [];
    }
    case 'event.reminder': {
      const found = await readEvent(event.eventId);
      // A reminder for a start time the event no longer has is stale: the scheduler plans new ones when it moves.
      if (
        !found ||
        found.status !== 'scheduled' ||
        Date.parse(found.event.startsAt) !== Date.parse(event.data.startsAt)
      )
        return [];
      const startsIn = STARTS_IN[event.data.window];
      return (await ticketHolders(client, event.eventId)).map((h) => ({
        template: 'event-reminder',
        userId: h.user_id,
        data: { event: found.event, startsIn, tickets: h.tickets },
      }));
    }
    case 'event.created':
      await recordEventState(client, event.data);
      return [];
    case 'event.updated': {
      const changes = await recordEventState(client, event.data);
      if (changes.length === 0 || event.data.status !== 'scheduled') return [];
      const { id, name, venue, startsAt, endsAt } = event.data;
      return (await ticketHolders(client, event.eventId)).map((h) => ({
        template: 'event-changed',
        userId: h.user_id,
        data: { event: { id, name, venue, startsAt, endsAt }, changes },
      }));
    }
    default:
      return [];
  }
}
