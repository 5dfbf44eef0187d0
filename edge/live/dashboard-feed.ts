// Domain events → `activity` frames for the admin dashboards connected to
// this edge (`subscribe-dashboard`). Four kinds make a dashboard move: a
// booking confirmed or cancelled, a price change and an analytics alert.
// Each frame is encoded once, only when some dashboard is listening, and
// carries the seat counts right after the change, so the page's bars follow
// the inventory at once while the analytics actor catches up.
import type { ActivityMessage, DomainEvent } from '../../protocol/index.js';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { DomainFeed } from '../plugins/domain-feed.js';
import { validData } from './fan-out.js';
import { encode, type LiveHub } from './hub.js';

/** The activity message of a domain event, or undefined for a kind dashboards do not follow. */
export function activityOf(event: DomainEvent): ActivityMessage | undefined {
  const { id, eventId, version, occurredAt: at, availability } = event;
  const base = { type: 'activity', id, eventId, version, at, availability } as const;
  switch (event.type) {
    case 'booking.confirmed':
    case 'booking.cancelled':
      return {
        ...base,
        kind: event.type,
        booking: { quantity: event.data.quantity, totalPrice: event.data.totalPrice },
      };
    case 'price.changed':
      return {
        ...base,
        kind: event.type,
        price: { price: event.data.price, previous: event.data.previous, reason: event.data.reason },
      };
    case 'analytics.alert': {
      const { kind, observed, baseline, detail } = event.data;
      return { ...base, kind: event.type, alert: { kind, observed, baseline, detail } };
    }
    default:
      return undefined;
  }
}

export function followDashboardActivity(feed: DomainFeed, hub: LiveHub, log: Logger): void {
  feed.on((event) => {
    if (!hub.hasDashboards()) return;
    const activity = activityOf(event);
    if (!activity) return;
    if (!validData(event)) {
      log.warn(
        { type: event.type, id: event.id },
        'domain event data does not match its schema; not shown on dashboards',
      );
      return;
    }
    hub.toDashboards(encode(activity));
  });
}
