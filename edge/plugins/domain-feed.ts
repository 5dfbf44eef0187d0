// The edge's one subscription to the domain event subjects (core NATS: the
// JetStream stream stores the same subjects, and a live view needs the
// present, not a replay). Each message is parsed and checked against the
// envelope once, then handed to every listener — the live fan-out and the
// event cache — so a flash sale's thousands of events per second cost one
// parse each on the edge's event loop, not one per feature.
import type { NatsConnection, Subscription } from 'nats';
import { Compile } from 'typebox/compile';
import { DOMAIN_ALL, DomainEventEnvelope, type DomainEvent } from '../../actors/protocol/index.js';
import type { Logger } from '../../actors/runtime/logger.js';

const validEnvelope = Compile(DomainEventEnvelope);

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
        let event: unknown;
        try {
          event = msg.json();
        } catch {
          event = undefined;
        }
        if (!validEnvelope.Check(event)) {
          this.log.warn({ subject: msg.subject }, 'not a domain event envelope; ignored');
          return;
        }
        for (const listener of this.listeners) {
          try {
            listener(event as DomainEvent);
          } catch (listenerErr) {
            this.log.error({ err: listenerErr, type: (event as DomainEvent).type }, 'domain event listener failed');
          }
        }
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
