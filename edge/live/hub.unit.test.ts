// The heartbeat pings a crowd of sockets a slice per loop turn, and cuts off whoever missed a pong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WebSocket } from 'ws';
import { LiveHub, PING_SLICE } from './hub.js';

test('when 600 sockets are pinged, then a slice goes per loop turn, and those without a pong are cut off at the next beat', async () => {
  const hub = new LiveHub({ soft: 1 << 20, hard: 1 << 21 });
  let pings = 0;
  let cut = 0;
  const clients = Array.from({ length: 600 }, () =>
    hub.add({ ping: () => (pings += 1), terminate: () => (cut += 1) } as unknown as WebSocket),
  );
  const beat = hub.heartbeat();
  assert.equal(pings, PING_SLICE, 'the first slice at once, the rest on later turns');
  await beat;
  assert.equal(pings, 600);
  for (const client of clients.slice(0, 100)) client.alive = true; // their pongs came
  await hub.heartbeat();
  assert.equal(cut, 500, 'no pong: cut off');
  assert.equal(pings, 700, 'the others pinged again');
  assert.equal(hub.clients.size, 100);
});
