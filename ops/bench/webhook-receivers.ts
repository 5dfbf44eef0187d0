// The webhook benchmark's receivers, in their own process so they never share
// an event loop with the system they receive from. `node
// dist/ops/bench/webhook-receivers.js N` starts N HTTP receivers on
// 127.0.0.1 (free ports), prints their ports as one JSON line, and answers
// every POST 200 at once. GET /stats?eventId=… answers how many distinct
// webhook-ids that receiver has accepted for the event (what "delivered"
// means to a receiver that dedupes), and all attempts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const count = Number(process.argv[2] ?? '2');

async function receiver(): Promise<number> {
  const ids = new Map<string, Set<string>>();
  let attempts = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      const eventId = new URL(req.url ?? '/', 'http://x').searchParams.get('eventId') ?? '';
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ distinct: ids.get(eventId)?.size ?? 0, attempts }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      const { eventId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { eventId: string };
      let seen = ids.get(eventId);
      if (!seen) ids.set(eventId, (seen = new Set()));
      seen.add(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const ports = await Promise.all(Array.from({ length: count }, receiver));
process.stdout.write(`${JSON.stringify(ports)}\n`);
process.stdin.resume();
// The parent closing our stdin is the signal to go.
process.stdin.on('end', () => process.exit(0));
