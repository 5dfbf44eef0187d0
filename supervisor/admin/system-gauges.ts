// Gauges read from the shared servers when Prometheus scrapes: the seat
// invariant of every scheduled event (from the tables, not from any actor's
// memory) and how far each domain-event consumer is behind. Every supervisor
// reports the same values; alert on max(), not sum().
import type { JetStreamManager } from 'nats';
import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { readSeatDrift } from '../../actors/inventory/public.js';
import { AUDIT_STREAM, DOMAIN_STREAM } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';

/** `waitlist-3-seats-released` → consumer `waitlist`, type `seats-released`; other names stand alone. */
const SHARD_CONSUMER = /^(.+)-(\d+)-([a-z-]+)$/;

/** Each stream consumer kind's backlog on the domain stream: `mailer-3` and `waitlist-3-seats-released` count for their kind. */
export async function consumerLag(manager: JetStreamManager): Promise<Map<string, number>> {
  const lag = new Map<string, number>();
  for await (const info of manager.consumers.list(DOMAIN_STREAM)) {
    const kind = /^(.+?)-\d+(-[a-z-]+)?$/.exec(info.name)?.[1] ?? info.name;
    lag.set(kind, (lag.get(kind) ?? 0) + info.num_pending + info.num_ack_pending);
  }
  return lag;
}

export function systemGauges(registry: Registry, db: Pool, jsm: () => Promise<JetStreamManager>, log: Logger): void {
  new Gauge({
    name: 'evently_seat_invariant',
    help: 'confirmed + held + set aside + available − capacity per scheduled event; anything but 0 is a broken ledger',
    labelNames: ['event'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const { eventId, drift } of await readSeatDrift(db)) this.set({ event: eventId }, drift);
      } catch (err) {
        log.warn({ err }, 'seat invariant not read for this scrape');
      }
    },
  });

  new Gauge({
    name: 'evently_consumer_pending',
    help: 'Messages a durable consumer has not yet acknowledged (not delivered + delivered and unacked), summed over shards',
    labelNames: ['stream', 'consumer', 'type'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const manager = await jsm();
        for (const stream of [DOMAIN_STREAM, AUDIT_STREAM]) {
          for await (const info of manager.consumers.list(stream)) {
            const [, consumer, , type] = SHARD_CONSUMER.exec(info.name) ?? [info.name, info.name, '', ''];
            this.inc({ stream, consumer, type }, info.num_pending + info.num_ack_pending);
          }
        }
      } catch (err) {
        log.warn({ err }, 'consumer lag not read for this scrape');
      }
    },
  });
}
