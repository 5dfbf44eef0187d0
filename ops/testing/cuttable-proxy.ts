// A TCP proxy on 127.0.0.1 that a test can cut and heal: a partition between
// one process and a server, without network namespaces or root. Cut, it
// stops reading from both sides of every connection (bytes wait in the
// kernel's buffers, as on a network that drops them, nobody is told) and new
// connections wait unconnected; healed, everything flows again.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface CuttableProxy {
  port: number;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  let isCut = false;
  const pairs = new Set<[Socket, Socket | undefined]>();
  const waiting: (() => void)[] = [];
  const join = (pair: [Socket, Socket | undefined]) => {
    const [down] = pair;
    const up = createConnection({ host: '127.0.0.1', port: targetPort });
    pair[1] = up;
    down.pipe(up).pipe(down);
    const close = () => {
      down.destroy();
      up.destroy();
      pairs.delete(pair);
    };
    up.on('error', close).on('close', close);
  };
  const server: Server = createServer((down) => {
    const pair: [Socket, Socket | undefined] = [down, undefined];
    pairs.add(pair);
    down
      .on('error', () => down.destroy())
      .on('close', () => {
        pair[1]?.destroy();
        pairs.delete(pair);
      });
    if (isCut) {
      down.pause();
      waiting.push(() => join(pair));
    } else join(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    port: address.port,
    cut() {
      isCut = true;
      for (const [down, up] of pairs) {
        down.unpipe();
        up?.unpipe();
        down.pause();
        up?.pause();
      }
    },
    heal() {
      isCut = false;
      for (const [down, up] of pairs) {
        if (!up) continue;
        down.pipe(up);
        up.pipe(down);
      }
      for (const connect of waiting.splice(0)) connect();
    },
    async close() {
      for (const [down, up] of pairs) {
        down.destroy();
        up?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
