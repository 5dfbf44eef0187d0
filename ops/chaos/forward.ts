// `node dist/ops/chaos/forward.js HOST:PORT=TARGET_PORT ...`: plain TCP
// forwarding from an address on the chaos bridge to the same port's server on
// 127.0.0.1, so supervisors in network namespaces reach servers that listen on
// loopback only. Its own process, so piping bytes never slows the edge.
import { createConnection, createServer } from 'node:net';

for (const spec of process.argv.slice(2)) {
  const [listen = '', target] = spec.split('=');
  const [host, port] = listen.split(':');
  createServer((down) => {
    const up = createConnection({ host: '127.0.0.1', port: Number(target) });
    down.pipe(up).pipe(down);
    const close = () => {
      down.destroy();
      up.destroy();
    };
    down.on('error', close).on('close', close);
    up.on('error', close).on('close', close);
  }).listen(Number(port), host, () => console.log(`forwarding ${listen} → 127.0.0.1:${target}`));
}
