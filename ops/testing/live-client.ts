// A WebSocket client for the live tests: every frame the edge sends lands in
// an inbox, and a test waits for the one it expects (with a timeout) instead
// of sleeping and hoping. Plus the publisher side: proper domain-event
// envelopes on the subjects the protocol names.
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { WebSocket } from 'ws';
import {
  domainSubject,
  shardOf,
  type Availability,
  type DomainEventOf,
  type DomainEventType,
  type ServerMessage,
} from '../../protocol/index.js';

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void };

export class LiveTestClient {
  private readonly inbox: ServerMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      for (const w of this.waiters) {
        if (w.match(message)) {
          this.waiters.delete(w);
          w.resolve(message);
          return;
        }
      }
      this.inbox.push(message);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
  }

  static open(baseUrl: string, headers: Record<string, string> = {}): Promise<LiveTestClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers });
    const client = new LiveTestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * The first frame (already received or still to come) that matches; fails after timeoutMs, which is
   * generous because a loaded two-core machine can take seconds to deliver a frame.
   */
  next<T extends ServerMessage = ServerMessage>(
    match: (m: ServerMessage) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<T> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as T);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Every frame received and not yet taken by next(). */
  pending(match: (m: ServerMessage) => boolean): ServerMessage[] {
    return this.inbox.filter(match);
  }

  async subscribe(eventIds: string[]): Promise<void> {
    this.send({ type: 'subscribe', eventIds });
    await this.next((m) => m.type === 'ack' && m.of === 'subscribe', 'subscribe ack');
  }

  close(): void {
    this.socket.terminate();
  }
}

export const isAvailability =
  (eventId: string, test: (m: Extract<ServerMessage, { type: 'availability' }>) => boolean = () => true) =>
  (m: ServerMessage): boolean =>
    m.type === 'availability' && m.eventId === eventId && test(m);

export const isError =
  (code: string) =>
  (m: ServerMessage): boolean =>
    m.type === 'error' && m.code === code;

/** Publishes a domain event the way the outbox does: envelope, subject of the event's shard. */
export function publishDomainEvent<T extends DomainEventType>(
  nc: NatsConnection,
  shards: number,
  type: T,
  eventId: string,
  version: number,
  availability: Availability | null,
  data: DomainEventOf<T>['data'],
): void {
  const event: DomainEventOf<T> = {
    id: randomUUID(),
    type,
    eventId,
    version,
    occurredAt: new Date().toISOString(),
    requestId: randomUUID(),
    availability,
    data,
  };
  nc.publish(domainSubject(type, shardOf(eventId, shards)), JSON.stringify(event));
}
