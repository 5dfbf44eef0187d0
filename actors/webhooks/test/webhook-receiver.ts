// A real HTTP receiver for webhook tests: node:http on 127.0.0.1, a free
// port. It records every request (headers, raw body, parsed payload) and
// answers as the test says: a status, after a delay, or never (to time out).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  payload: { type: string; timestamp: string; eventId: string; version: number; data: Record<string, unknown> };
  at: number;
  /** What the receiver answered (undefined while it waits, or if it never answers). */
  status?: number;
}

/** What to answer the n-th request (0-based): a status, optionally after `delayMs`; `hang` never answers. */
export type Respond = (
  n: number,
  received: Received,
) => { status: number; delayMs?: number; hang?: boolean; body?: string };

export class Receiver {
  readonly received: Received[] = [];
  respond: Respond = () => ({ status: 200 });
  private readonly server: Server;
  private readonly hanging = new Set<() => void>();

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received: Received = { headers: req.headers, body, payload: JSON.parse(body), at: Date.now() };
        const n = self!.received.push(received) - 1;
        const answer = self!.respond(n, received);
        if (answer.hang) {
          const end = () => res.destroy();
          self!.hanging.add(end);
          return;
        }
        setTimeout(() => {
          received.status = answer.status;
          res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? 'ok');
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new Receiver(server);
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** What arrived about one event (tests share receivers across events only by accident). */
  about(eventId: string): Received[] {
    return this.received.filter((r) => r.payload.eventId === eventId);
  }

  /** The attempts about one event it accepted (2xx), in the order it accepted them. */
  accepted(eventId: string): Received[] {
    return this.about(eventId).filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300);
  }

  async stop(): Promise<void> {
    for (const end of this.hanging) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
