import { get } from 'node:http';
import { createConnection, createServer, type Server } from 'node:net';
import { serverFailed } from './errors.js';
import type { ServerProcess } from './processes.js';

// Ports this process has handed out. The OS may give a just-closed port to the next bind(0), so
// two stacks starting at once could otherwise be told the same port.
const handedOut = new Set<number>();

function listenOnFreePort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Ports that were free on 127.0.0.1 a moment ago. All are held open until every one is chosen,
 * so the list has no duplicates; they are then released for the servers to bind.
 */
export async function freePorts<N extends number>(count: N): Promise<Tuple<number, N>> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = await listenOnFreePort();
      held.push(server);
      const address = server.address();
      if (address === null || typeof address === 'string') continue;
      if (handedOut.has(address.port)) continue;
      handedOut.add(address.port);
      ports.push(address.port);
    }
  } finally {
    await Promise.all(held.map(close));
  }
  // The loop ends only once `count` ports are in the list.
  return ports as Tuple<number, N>;
}

/** N items when N is a literal (a caller destructures them without a check each); T[] when N is any number. */
export type Tuple<T, N extends number, Got extends T[] = []> = number extends N
  ? T[]
  : Got['length'] extends N
    ? Got
    : Tuple<T, N, [...Got, T]>;

/** One port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/**
 * Polls `probe` until it answers true. Gives up early when the server process dies (no point
 * waiting for a corpse) and at the deadline, either way quoting the server's log.
 */
export async function waitReady(
  server: ServerProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.hasExited()) {
      const exit = await server.exited;
      const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
      throw serverFailed(server.name, `it exited with ${how} while starting`, server.logFile);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw serverFailed(server.name, `not ready after ${timeoutMs / 1000} s`, server.logFile);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** True when an HTTP GET answers 200; any error (refused, reset, timeout) is "not yet". */
export function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

/** Raw RESP `PING`, so readiness needs no Redis client. */
/** PING (after AUTH when the server needs a password): true on PONG. */
export function redisPing(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    const auth = password ? `*2\r\n${bulk('AUTH')}${bulk(password)}` : '';
    socket.once('connect', () => socket.write(`${auth}*1\r\n$4\r\nPING\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const lines = reply.split('\r\n');
      const expected = password ? 2 : 1;
      if (lines.length <= expected) return;
      // A loading server answers "-LOADING ..." instead: not ready yet; a wrong password "-WRONGPASS".
      finish((password ? lines[0] === '+OK' : true) && (lines[expected - 1]?.startsWith('+PONG') ?? false));
    });
  });
}
