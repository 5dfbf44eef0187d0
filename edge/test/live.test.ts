// GET /ws against the real system: snapshots on subscribe, availability from
// domain events published on NATS (as the outbox publishes them), a user's
// own bookings and waitlist entries, and bad messages that leave the socket
// open.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { natsOptions } from '../../platform/nats-connect.js';
import type {
  AvailabilityMessage,
  Booking,
  BookingMessage,
  WaitlistEntry,
  WaitlistMessage,
} from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { isAvailability, isError, LiveTestClient, publishDomainEvent } from '../../ops/testing/live-client.js';

let t: TestSystem;
let nc: NatsConnection;
const clients: LiveTestClient[] = [];
before(async () => {
  t = await startTestSystem();
  nc = await connect(natsOptions(t.system.config, 'supervisor'));
});
after(async () => {
  for (const c of clients) c.close();
  await nc?.close();
  await t?.stop();
});

const open = async (headers: Record<string, string> = {}) => {
  const c = await LiveTestClient.open(t.url, headers);
  clients.push(c);
  return c;
};
const shards = () => t.system.config.shards;
const seats = (available: number, held = 0) => ({ available, held, capacity: 100, price: 2500, status: 'scheduled' });

function booking(eventId: string, userId: string): Booking {
  return {
    id: randomUUID(),
    eventId,
    userId,
    quantity: 2,
    unitPrice: 2500,
    totalPrice: 5000,
    currency: 'EUR',
    status: 'confirmed',
    createdAt: new Date().toISOString(),
    cancelledAt: null,
  };
}

describe('availability', () => {
  test("when a client subscribes, then it gets an ack and the event's current availability at once", async () => {
    const event = await t.createEvent({ capacity: 40, price: 1900 });
    const c = await open();
    await c.subscribe([event.id]);
    const snap = await c.next<AvailabilityMessage>(isAvailability(event.id), 'snapshot');
    assert.deepEqual(
      {
        available: snap.available,
        held: snap.held,
        price: snap.price,
        status: snap.status,
        version: snap.version,
        watchers: snap.watchers,
      },
      { available: 40, held: 0, price: 1900, status: 'scheduled', version: event.version, watchers: 1 },
    );
  });

  test('when domain events arrive, then watchers get the new numbers and an older version is never forwarded', async () => {
    const event = await t.createEvent();
    const [watcher, other] = [await open(), await open()];
    await watcher.subscribe([event.id]);
    await watcher.next(isAvailability(event.id), 'snapshot');
    const v = event.version;
    publishDomainEvent(nc, shards(), 'seats.released', event.id, v + 10, seats(90, 3), {
      quantity: 3,
      reason: 'booking-cancelled',
      toWaitlist: 3,
    });
    const changed = await watcher.next<AvailabilityMessage>(
      isAvailability(event.id, (m) => m.version === v + 10),
      'v+10',
    );
    assert.deepEqual([changed.available, changed.held], [90, 3]);

    publishDomainEvent(nc, shards(), 'event.updated', event.id, v + 5, seats(99), { ...event, version: v + 5 });
    publishDomainEvent(nc, shards(), 'seats.released', event.id, v + 11, seats(88, 2), {
      quantity: 2,
      reason: 'hold-expired',
      toWaitlist: 0,
    });
    await watcher.next(
      isAvailability(event.id, (m) => m.version === v + 11),
      'v+11',
    );
    assert.deepEqual(watcher.pending(isAvailability(event.id)), [], 'v+5 came after v+10 and must not be forwarded');
    assert.deepEqual(
      other.pending(() => true),
      [],
      'a client watching nothing gets nothing',
    );
  });

  test('when an event does not exist, then subscribing to it gives NOT_FOUND and no watch', async () => {
    const c = await open();
    const ghost = randomUUID();
    await c.subscribe([ghost]);
    const err = await c.next(isError('NOT_FOUND'), 'NOT_FOUND');
    assert.match(JSON.stringify(err), new RegExp(ghost));
    assert.equal(t.system.edge.app.live.hub.localWatchers(ghost), 0);
  });
});

describe("a user's own messages", () => {
  test("when a booking is confirmed, then only that user's signed-in sockets get it", async () => {
    const event = await t.createEvent();
    const [ann, bob] = await t.registerUsers(2, 'live');
    const annByHeader = await open({ authorization: `Bearer ${ann.token}` });
    const annByMessage = await open();
    annByMessage.send({ type: 'auth', token: ann.token });
    assert.equal(
      ((await annByMessage.next((m) => m.type === 'ack' && m.of === 'auth', 'auth ack')) as { userId?: string }).userId,
      ann.id,
    );
    const bobSocket = await open();
    bobSocket.send({ type: 'auth', token: bob.token });
    await bobSocket.next((m) => m.type === 'ack', 'auth ack');
    const anonymous = await open();

    const annBooking = booking(event.id, ann.id);
    publishDomainEvent(nc, shards(), 'booking.confirmed', event.id, event.version + 1, seats(98), annBooking);
    publishDomainEvent(
      nc,
      shards(),
      'booking.confirmed',
      event.id,
      event.version + 2,
      seats(96),
      booking(event.id, bob.id),
    );
    for (const c of [annByHeader, annByMessage]) {
      const got = await c.next<BookingMessage>((m) => m.type === 'booking', 'own booking');
      assert.deepEqual(got.booking, annBooking);
    }
    const bobs = await bobSocket.next<BookingMessage>((m) => m.type === 'booking', 'bob booking');
    assert.equal(bobs.booking.userId, bob.id);
    assert.deepEqual(
      bobSocket.pending((m) => m.type === 'booking'),
      [],
      "bob never sees ann's booking",
    );
    assert.deepEqual([...annByHeader.pending((m) => m.type === 'booking'), ...anonymous.pending(() => true)], []);
  });

  test('when a waitlist entry changes or positions move, then each user gets their own entry', async () => {
    const event = await t.createEvent();
    const [ann, bob] = await t.registerUsers(2, 'wl');
    const [a, b] = [
      await open({ authorization: `Bearer ${ann.token}` }),
      await open({ authorization: `Bearer ${bob.token}` }),
    ];
    const entry: WaitlistEntry = {
      id: randomUUID(),
      eventId: event.id,
      userId: ann.id,
      quantity: 3,
      priority: 0,
      position: null,
      status: 'offered',
      offer: { holdId: randomUUID(), expiresAt: new Date(Date.now() + 600_000).toISOString() },
      joinedAt: new Date().toISOString(),
    };
    publishDomainEvent(nc, shards(), 'waitlist.changed', event.id, event.version + 1, seats(0, 3), entry);
    assert.deepEqual((await a.next<WaitlistMessage>((m) => m.type === 'waitlist', 'offer')).entry, entry);

    const bobEntry = randomUUID();
    publishDomainEvent(nc, shards(), 'waitlist.positions', event.id, event.version + 1, null, {
      entries: [
        { entryId: bobEntry, userId: bob.id, position: 1 },
        { entryId: randomUUID(), userId: randomUUID(), position: 2 },
      ],
    });
    const moved = await b.next<WaitlistMessage>((m) => m.type === 'waitlist', 'position');
    assert.deepEqual(moved.entry, { id: bobEntry, eventId: event.id, userId: bob.id, position: 1, status: 'waiting' });
    assert.deepEqual(
      a.pending((m) => m.type === 'waitlist'),
      [],
    );
  });
});

describe('bad messages', () => {
  test('when a client sends bad messages, then each gets an error frame and the socket stays open', async () => {
    const event = await t.createEvent();
    const c = await open();
    const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
    const cases: [string, unknown, string][] = [
      ['malformed JSON', '{"type":"subscribe",', 'MALFORMED_JSON'],
      ['not an object', '42', 'VALIDATION_FAILED'],
      ['unknown type', { type: 'book', eventIds: [event.id] }, 'VALIDATION_FAILED'],
      ['no ids', { type: 'subscribe', eventIds: [] }, 'VALIDATION_FAILED'],
      ['too many ids', { type: 'subscribe', eventIds: ids(101) }, 'VALIDATION_FAILED'],
      ['not a uuid', { type: 'subscribe', eventIds: ["'; DROP TABLE events; --"] }, 'VALIDATION_FAILED'],
      ['extra field', { type: 'unsubscribe', eventIds: [event.id], all: true }, 'VALIDATION_FAILED'],
      ['oversize', JSON.stringify({ type: 'auth', token: 'x'.repeat(9000) }), 'PAYLOAD_TOO_LARGE'],
      ['bad token', { type: 'auth', token: 'not-a-jwt' }, 'UNAUTHENTICATED'],
    ];
    for (const [name, message, code] of cases) {
      c.send(message);
      const err = await c.next((m) => m.type === 'error', name);
      assert.equal((err as { code: string }).code, code, name);
    }
    c.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.next(isError('UNSUPPORTED_MEDIA_TYPE'), 'binary frame refused');
    await c.subscribe([event.id]);
    await c.next(isAvailability(event.id), 'snapshot after the bad messages');
  });

  test('when the OpenAPI document is read, then /ws and the presence view are in it', async () => {
    const doc = await t.api('GET', '/docs/json');
    assert.ok(doc.body.paths['/ws']?.get, '/ws is documented');
    const presence = doc.body.paths['/v1/admin/presence']?.get;
    assert.ok(
      presence?.responses?.['200']?.content?.['application/json']?.schema?.properties?.events,
      'presence response schema',
    );
  });

  test('when the upgrade carries a bad token or is not an upgrade, then a problem, not a socket', async () => {
    await assert.rejects(LiveTestClient.open(t.url, { authorization: 'Bearer nope' }), /401/);
    const plain = await t.api('GET', '/ws');
    assert.equal(plain.status, 400);
    assert.equal(plain.body.code, 'VALIDATION_FAILED');
  });
});
