// The yardstick for the fan-out benchmark: a bare `ws` server that follows
// the same NATS subjects and, for each domain message, encodes one availability
// frame and writes it to every socket. No validation, no snapshots, no
// per-socket checks: the least any WebSocket fan-out of these events can do.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'nats';
import { WebSocketServer } from 'ws';
import { DOMAIN_ALL, type DomainMessage } from '../../protocol/index.js';

export interface BareWsServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startBareWs(natsUrl: string, natsPass?: string): Promise<BareWsServer> {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  const nc = await connect({
    servers: natsUrl,
    user: natsPass ? 'supervisor' : undefined,
    pass: natsPass,
    noAsyncTraces: true,
  });
  nc.subscribe(DOMAIN_ALL, {
    callback: (err, msg) => {
      if (err) return;
      const { events } = JSON.parse(Buffer.from(msg.data).toString('utf8')) as DomainMessage;
      const event = events.at(-1);
      if (!event?.availability) return;
      const { available, held, price, status } = event.availability;
      const frame = Buffer.from(
        JSON.stringify({
          type: 'availability',
          eventId: event.eventId,
          available,
          held,
          price,
          status,
          version: event.version,
          watchers: wss.clients.size,
        }),
      );
      for (const socket of wss.clients) socket.send(frame, { binary: false });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const socket of wss.clients) socket.terminate();
      await nc.close();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
