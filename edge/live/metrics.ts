// The live side's series on the edge's registry, read from the hub when
// scraped so they cannot drift from what the hub holds.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveHub } from './hub.js';

export function liveMetrics(registry: Registry, hub: LiveHub): void {
  new Gauge({
    name: 'evently_ws_clients',
    help: 'WebSocket clients connected to this edge',
    registers: [registry],
    collect() {
      this.set(hub.clients.size);
    },
  });
  const following = (name: string, help: string, read: () => number) => {
    let counted = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        this.inc(now - counted);
        counted = now;
      },
    });
  };
  following(
    'evently_ws_frames_skipped_total',
    'Availability frames skipped for a slow client (a newer one follows)',
    () => hub.skippedFrames,
  );
  following(
    'evently_ws_clients_terminated_total',
    'WebSocket clients cut off for not reading (hard buffer exceeded)',
    () => hub.terminated,
  );
}
