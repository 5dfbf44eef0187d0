// The live path end to end, with nothing simulated: bookings made through
// the API by other clients reach a watcher's socket through the outbox, the
// domain stream and the edge's fan-out; a waitlisted user's socket gets the
// offer when a seat comes back, and the booking when the hold is confirmed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AvailabilityMessage, BookingMessage, WaitlistEntry, WaitlistMessage } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { isAvailability, LiveTestClient } from '../../ops/testing/live-client.js';

let t: TestSystem;
const clients: LiveTestClient[] = [];
before(async () => {
  t = await startTestSystem();
});
after(async () => {
  for (const c of clients) c.close();
  await t?.stop();
});

const open = async (token?: string) => {
  const c = await LiveTestClient.open(t.url, token ? { authorization: `Bearer ${token}` } : {});
  clients.push(c);
  return c;
};

test('when other clients book and cancel, then a watcher sees availability change and the waitlisted user gets the offer and the booking', async () => {
  const event = await t.createEvent({ capacity: 2 });
  const [a, b, w] = await t.registerUsers(3, 'live-e2e');
  const watcher = await open();
  await watcher.subscribe([event.id]);
  const first = await watcher.next<AvailabilityMessage>(isAvailability(event.id), 'snapshot');
  assert.equal(first.available, 2);

  const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: a.token, body: { quantity: 1 } });
  assert.equal(booked.status, 201);
  const after1 = await watcher.next<AvailabilityMessage>(
    isAvailability(event.id, (m) => m.available === 1),
    'available 1',
  );
  assert.ok(after1.version > first.version);
  await t.api('POST', `/v1/events/${event.id}/bookings`, { token: b.token, body: { quantity: 1 } });
  await watcher.next(
    isAvailability(event.id, (m) => m.available === 0),
    'sold out',
  );

  const mine = await open(w.token);
  const joined = await t.api('POST', `/v1/events/${event.id}/waitlist`, { token: w.token, body: { quantity: 1 } });
  assert.equal(joined.status, 201);
  const isMyEntry = (status: string) => (m: { type: string }) =>
    m.type === 'waitlist' &&
    (m as WaitlistMessage).entry.id === joined.body.id &&
    (m as WaitlistMessage).entry.status === status;
  await mine.next(isMyEntry('waiting'), 'my waitlist entry');

  await t.api('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: a.token });
  const offer = (await mine.next<WaitlistMessage>(isMyEntry('offered'), 'my offer')).entry as WaitlistEntry;
  assert.ok(offer.offer && Date.parse(offer.offer.expiresAt) > Date.now());
  // The seat came back held for the waitlist, never on sale.
  const held = await watcher.next<AvailabilityMessage>(
    isAvailability(event.id, (m) => m.held === 1),
    'held seat',
  );
  assert.equal(held.available, 0);
  assert.equal(watcher.pending(isAvailability(event.id, (m) => m.available > 0)).length, 0);

  const confirmed = await t.api('POST', `/v1/holds/${offer.offer.holdId}/confirm`, { token: w.token });
  assert.equal(confirmed.status, 201);
  const message = await mine.next<BookingMessage>(
    (m) => m.type === 'booking' && m.booking.id === confirmed.body.id,
    'my booking',
  );
  assert.equal(message.booking.status, 'confirmed');
  await watcher.next(
    isAvailability(event.id, (m) => m.held === 0 && m.available === 0),
    'hold turned into a sale',
  );
  assert.equal(
    watcher.pending((m) => m.type === 'booking' || m.type === 'waitlist').length,
    0,
    "an anonymous watcher gets nobody's own messages",
  );
});
