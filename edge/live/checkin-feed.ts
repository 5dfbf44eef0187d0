// Live check-in figures for the door staff's screens (`subscribe-checkin`):
// the check-in actor publishes an event's figure on a core NATS subject as
// scans happen (throttled there); every edge relays it to its local
// followers of that event. A follower first gets the figure as it is now.
// Only a signed-in staff member or admin whose token has not expired hears it.
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { NatsConnection, Subscription } from 'nats';
import { checkin, CHECKIN_FIGURES_WILDCARD, type CheckinFigures } from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';
import { encode, type LiveClient, type LiveHub } from './hub.js';

/** Most events one socket follows at the door: a venue has a few, not hundreds. */
const MAX_FOLLOWED = 20;

export class CheckinFeed {
  private readonly followers = new Map<string, Set<LiveClient>>();
  private subscription?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly hub: LiveHub,
    private readonly broker: Broker,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subscription = this.nc.subscribe(CHECKIN_FIGURES_WILDCARD, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err }, 'check-in figures subscription error');
          return;
        }
        const eventId = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
        if (!this.followers.has(eventId)) return;
        try {
          this.send(eventId, msg.json<CheckinFigures>());
        } catch (error) {
          this.log.warn({ err: error, subject: msg.subject }, 'unreadable check-in figure');
        }
      },
    });
  }

  async follow(client: LiveClient, eventId: string, requestId: string): Promise<void> {
    let set = this.followers.get(eventId);
    if (!set?.has(client) && [...this.followers.values()].filter((s) => s.has(client)).length >= MAX_FOLLOWED) {
      this.hub.deliver(
        client,
        encode({
          type: 'error',
          code: 'VALIDATION_FAILED',
          detail: `a socket follows at most ${MAX_FOLLOWED} events' check-in`,
        }),
        false,
      );
      return;
    }
    if (!set) this.followers.set(eventId, (set = new Set()));
    set.add(client);
    this.hub.deliver(client, encode({ type: 'ack', of: 'subscribe-checkin', eventIds: [eventId] }), false);
    const now = await this.broker.call(
      checkin.figures,
      { eventId },
      { requestId, userId: client.userId, role: client.role },
    );
    if (now.ok) this.hub.deliver(client, encode({ type: 'checkin', ...now.value }), false);
    else this.hub.deliver(client, encode({ type: 'error', code: now.code, detail: now.detail }), false);
  }

  forget(client: LiveClient): void {
    for (const [eventId, set] of this.followers) {
      set.delete(client);
      if (set.size === 0) this.followers.delete(eventId);
    }
  }

  private send(eventId: string, figures: CheckinFigures): void {
    const frame = encode({ type: 'checkin', ...figures });
    const now = Date.now();
    for (const client of [...(this.followers.get(eventId) ?? [])]) {
      // A sign-out, a failed re-auth or an expired token ends the right to the figure.
      if ((client.role !== 'staff' && client.role !== 'admin') || client.authExpiresAt <= now) {
        this.followers.get(eventId)?.delete(client);
        continue;
      }
      this.hub.deliver(client, frame, false);
    }
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.followers.clear();
  }
}
