// The live side across edges and under pressure: presence summed over two
// edges on one NATS, an edge that falls silent being forgotten, a client that
// stops reading being skipped then cut off (the edge's queue for it stays
// bounded), dead peers found by ping, and the socket and subscription caps.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import {
  presenceSubject,
  type AvailabilityMessage,
  type Booking,
  type PresenceReport,
  type PresenceSummary,
} from '../../protocol/index.js';
import { withOverrides } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { startEdge, type Edge } from '../server.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { isAvailability, isError, LiveTestClient, publishDomainEvent } from '../../ops/testing/live-client.js';

const SOFT = 16_384;
const HARD = 131_072;
const B_MAX_SOCKETS = 3;

let t: TestSystem;
let edgeB: Edge;
let nc: NatsConnection;
const clients: LiveTestClient[] = [];
before(async () => {
  // Not much shorter: an edge unheard for 3 intervals is forgotten, and a client that misses one pong is cut off,
  // and on a loaded machine an event loop can stall for most of a second.
  const timing = { presenceIntervalMs: 1000, presenceThrottleMs: 50 };
  t = await startTestSystem({ ...timing, wsSoftBuffer: SOFT, wsHardBuffer: HARD, wsMaxSubscriptions: 3 });
  // A second edge on the same NATS, as buildEdge/startEdge make one in a deployment.
  edgeB = await startEdge(
    withOverrides(t.system.config, { ...timing, wsMaxSockets: B_MAX_SOCKETS, wsPingMs: 2000 }),
    createLogger('error'),
  );
  nc = await connect(natsOptions(t.system.config, 'supervisor'));
});
after(async () => {
  for (const c of clients) c.close();
  await nc?.close();
  await edgeB?.stop();
  await t?.stop();
});

const open = async (url: string, headers: Record<string, string> = {}) => {
  const c = await LiveTestClient.open(url, headers);
  clients.push(c);
  return c;
};
const hubA = () => t.system.edge.app.live.hub;
const hubB = () => edgeB.app.live.hub;
const seats = (available: number) => ({ available, held: 0, capacity: 100_000, price: 2500, status: 'scheduled' });
const watchersOf = (c: LiveTestClient, eventId: string, n: number) =>
  c.next<AvailabilityMessage>(
    isAvailability(eventId, (m) => m.watchers === n),
    `watchers=${n}`,
  );

/** Polls until `condition` holds; generous, because a loaded machine can be slow to show a state. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('presence', () => {
  test('when clients on two edges watch one event, then both see watchers=2 and so does the admin view', async () => {
    const event = await t.createEvent();
    const [a, b] = [await open(t.url), await open(edgeB.url)];
    await a.subscribe([event.id]);
    await b.subscribe([event.id]);
    await Promise.all([watchersOf(a, event.id, 2), watchersOf(b, event.id, 2)]);
    for (const url of [t.url, edgeB.url]) {
      const view = await fetch(`${url}/v1/admin/presence`, {
        headers: { authorization: `Bearer ${t.adminToken}` },
      }).then((r) => r.json() as Promise<PresenceSummary>);
      assert.equal(view.edges, 2);
      assert.deepEqual(
        view.events.find((e) => e.eventId === event.id),
        { eventId: event.id, watchers: 2 },
      );
    }
    b.close();
    await watchersOf(a, event.id, 1);
  });

  test('when an edge falls silent, then its watchers are forgotten after a few intervals', async () => {
    const event = await t.createEvent();
    const a = await open(t.url);
    await a.subscribe([event.id]);
    const ghost: PresenceReport = { edgeId: `ghost-${randomUUID()}`, watchers: { [event.id]: 40 }, at: Date.now() };
    nc.publish(presenceSubject(ghost.edgeId), JSON.stringify(ghost));
    await watchersOf(a, event.id, 41);
    await watchersOf(a, event.id, 1);
  });

  test('when a user asks for the presence view, then 403; without a token, 401', async () => {
    const [user] = await t.registerUsers(1, 'presence');
    assert.equal((await t.api('GET', '/v1/admin/presence', { token: user.token })).status, 403);
    assert.equal((await t.api('GET', '/v1/admin/presence')).status, 401);
  });
});

describe('slow and dead clients', () => {
  test('when a client stops reading, then its availability frames are skipped, then it is cut off, and its queue stays bounded', async () => {
    const event = await t.createEvent({ capacity: 100_000 });
    const [slowUser] = await t.registerUsers(1, 'slow');
    const slow = await open(t.url, { authorization: `Bearer ${slowUser.token}` });
    const fast = await open(t.url);
    await slow.subscribe([event.id]);
    await fast.subscribe([event.id]);
    await fast.next(isAvailability(event.id), 'snapshot');
    slow.socket.pause();
    const serverSide = [...hubA().clients].find((c) => c.userId === slowUser.id)!;
    const skippedBefore = hubA().skippedFrames;
    const terminatedBefore = hubA().terminated;

    let version = event.version;
    // The reading client seeing the batch's last version means the edge has handled the whole batch.
    const batchThenMarker = async (publishBatch: () => void) => {
      publishBatch();
      publishDomainEvent(nc, t.system.config.shards, 'seats.released', event.id, ++version, seats(version), {
        quantity: 1,
        reason: 'booking-cancelled',
        toWaitlist: 0,
      });
      await fast.next(
        isAvailability(event.id, (m) => m.version === version),
        `version ${version} on the reading client`,
      );
      assert.ok(serverSide.socket.bufferedAmount <= HARD + 1024, `queued ${serverSide.socket.bufferedAmount} bytes`);
    };
    for (let batch = 0; hubA().skippedFrames === skippedBefore; batch++) {
      assert.ok(batch < 200, 'frames to a client that does not read are never skipped');
      await batchThenMarker(() => {
        for (let i = 0; i < 500; i++)
          publishDomainEvent(nc, t.system.config.shards, 'seats.released', event.id, ++version, seats(version), {
            quantity: 1,
            reason: 'booking-cancelled',
            toWaitlist: 0,
          });
      });
    }

    const booking = (): Booking => ({
      id: randomUUID(),
      eventId: event.id,
      userId: slowUser.id,
      quantity: 1,
      unitPrice: 2500,
      totalPrice: 2500,
      currency: 'EUR',
      status: 'confirmed',
      createdAt: new Date().toISOString(),
      cancelledAt: null,
    });
    for (let batch = 0; hubA().clients.has(serverSide); batch++) {
      assert.ok(batch < 200, 'a client that does not read is never cut off');
      await batchThenMarker(() => {
        for (let i = 0; i < 100; i++)
          publishDomainEvent(nc, t.system.config.shards, 'booking.confirmed', event.id, version, null, booking());
      });
    }
    assert.equal(hubA().terminated, terminatedBefore + 1);
    assert.equal(hubA().localWatchers(event.id), 1, 'only the reading client still watches');
  });

  test('when a client stops answering pings, then it is cut off and no longer counted', async () => {
    const before = hubB().clients.size;
    const quiet = await open(edgeB.url);
    await waitFor(() => hubB().clients.size === before + 1, 'connected');
    quiet.socket.pause();
    await waitFor(() => hubB().clients.size === before, 'cut off after a missed pong');
  });
});

describe('limits', () => {
  test('when a socket would watch more events than allowed, then an error and nothing more is watched', async () => {
    const events = await Promise.all([1, 2, 3, 4].map(() => t.createEvent()));
    const c = await open(t.url);
    await c.subscribe(events.slice(0, 2).map((e) => e.id));
    c.send({ type: 'subscribe', eventIds: events.slice(2).map((e) => e.id) });
    await c.next(isError('VALIDATION_FAILED'), 'over the cap');
    assert.equal(hubA().localWatchers(events[3].id), 0);
    await c.subscribe([events[2].id]);
    await c.next(isAvailability(events[2].id), 'third event still allowed');
  });

  test('when an edge is full, then the next upgrade gets 503', async () => {
    while (hubB().clients.size < B_MAX_SOCKETS) await open(edgeB.url);
    await assert.rejects(LiveTestClient.open(edgeB.url), /503/);
  });
});
