// The edge's one subscription to the domain event subjects (core NATS: the
// JetStream stream stores the same subjects, and a live view needs the
// present, not a replay). Each message (a transaction's run of events: a
// whole booking batch) is parsed and checked once, then its events are handed
// to every listener — the live fan-out and the event cache — so a flash
// sale costs the edge's event loop one parse per batch, not one per booking
// or per feature.
import type { NatsConnection, Subscription } from 'nats';
import { DOMAIN_ALL, readDomainMessage, type DomainEvent } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';

export type DomainListener = (event: DomainEvent) => void;

export class DomainFeed {
  private readonly listeners: DomainListener[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly log: Logger) {}

  on(listener: DomainListener): void {
    this.listeners.push(listener);
  }

  start(nc: NatsConnection): void {
    this.subscription = nc.subscribe(DOMAIN_ALL, {
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err }, 'domain event subscription failed');
          return;
        }
        let payload: unknown;
        try {
          payload = msg.json();
        } catch {
          payload = undefined;
        }
        const message = readDomainMessage(payload);
        if (!message) {
          this.log.warn({ subject: msg.subject }, 'not a domain message; ignored');
          return;
        }
        for (const event of message.events) {
          for (const listener of this.listeners) {
            try {
              listener(event);
            } catch (listenerErr) {
              this.log.error({ err: listenerErr, type: event.type }, 'domain event listener failed');
            }
          }
        }
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
