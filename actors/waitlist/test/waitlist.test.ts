// The waitlist, end to end through the API: promotion in queue order as seats
// come back, holds that expire and pass on, priority tiers, and no oversell
// while cancellations and confirmations race. Every check ends in the database.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { readSeatLedger } from '../../inventory/public.js';
import { startTestSystem, type Reply, type TestSystem } from '../../../ops/testing/harness.js';
import { eventuallyValue as eventually } from '../../../ops/testing/eventually.js';

// Long enough for a loaded machine to take an offer and confirm it (15 at once in the race test); the expiry
// test waits one hold out.
const HOLD_SECONDS = 15;

describe('waitlist', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ holdSeconds: HOLD_SECONDS, waitlistMaxSkips: 1 });
  });
  after(async () => {
    await t?.stop();
  });

  const book = (token: string, eventId: string, quantity = 1) =>
    t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity } });
  /**
   * A join as a client sends it: with an Idempotency-Key, and sent again with that key after a 503 (when
   * its retry-after says) or a 504 (the answer was lost; the join may have been made), as docs/api.md
   * tells a client to. Any other answer is the answer.
   */
  const join = async (token: string, eventId: string, quantity = 1) => {
    const key = randomUUID();
    for (let attempt = 1; ; attempt++) {
      const r = await t.api('POST', `/v1/events/${eventId}/waitlist`, {
        token,
        body: { quantity },
        headers: { 'idempotency-key': key },
      });
      if ((r.status !== 503 && r.status !== 504) || attempt >= 10) return r;
      console.error(`# waitlist join answered ${r.status} ${JSON.stringify(r.body)}; sent again with its key`);
      const retryAfter = Number(r.headers.get('retry-after')) || 1;
      await new Promise((resolve) => setTimeout(resolve, r.status === 503 ? 1000 * retryAfter : 0));
    }
  };
  const position = async (joined: Promise<Reply>) => {
    const r = await joined;
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.position;
  };
  const mine = (token: string, eventId: string) => t.api('GET', `/v1/events/${eventId}/waitlist/me`, { token });
  const offered = (token: string, eventId: string) =>
    eventually('an offer', async () => {
      const r = await mine(token, eventId);
      return r.body.status === 'offered' ? r.body : undefined;
    });

  test('when seats come back to a sold-out event, then the waitlist is offered them in order, a party that does not fit keeps its place, and a hold books', async () => {
    const event = await t.createEvent({ capacity: 3, maxTicketsPerUser: 3 });
    const [a, b, c, w1, w2, w3, late] = await t.registerUsers(7, 'order');
    const early = await join(w1.token, event.id);
    assert.equal(early.status, 409);
    assert.equal(early.body.code, 'SEATS_AVAILABLE');

    const bookings = await Promise.all([book(a.token, event.id), book(b.token, event.id), book(c.token, event.id)]);
    assert.deepEqual(
      bookings.map((r) => r.status),
      [201, 201, 201],
    );
    assert.equal(await position(join(w1.token, event.id, 1)), 1);
    assert.equal(await position(join(w2.token, event.id, 2)), 2);
    assert.equal(await position(join(w3.token, event.id, 1)), 3);
    assert.equal((await join(w1.token, event.id, 1)).body.code, 'ALREADY_ON_WAITLIST');

    assert.equal((await t.api('POST', `/v1/bookings/${bookings[0].body.id}/cancel`, { token: a.token })).status, 200);
    const first = await offered(w1.token, event.id);
    assert.ok(first.offer.holdId);
    assert.ok(Date.parse(first.offer.expiresAt) > Date.now());
    // The released seat is held, not on sale: a latecomer cannot take it.
    assert.equal((await book(late.token, event.id)).body.code, 'SOLD_OUT');
    assert.equal((await mine(w2.token, event.id)).body.position, 1);

    // One more seat: the party of two does not fit, so the single behind it gets it; the party keeps its place.
    await t.api('POST', `/v1/bookings/${bookings[1].body.id}/cancel`, { token: b.token });
    await offered(w3.token, event.id);
    const party = await mine(w2.token, event.id);
    assert.equal(party.body.status, 'waiting');
    assert.equal(party.body.position, 1);

    const confirmed = await t.api('POST', `/v1/holds/${first.offer.holdId}/confirm`, { token: w1.token });
    assert.equal(confirmed.status, 201);
    assert.equal(confirmed.body.quantity, 1);
    assert.equal(
      (await t.api('POST', `/v1/holds/${first.offer.holdId}/confirm`, { token: w1.token })).body.code,
      'HOLD_NOT_ACTIVE',
    );
    assert.equal(
      (
        await eventually('booked', async () => {
          const r = await mine(w1.token, event.id);
          return r.body.status === 'booked' ? r : undefined;
        })
      ).body.offer,
      null,
    );

    const ledger = await readSeatLedger(t.db, event.id);
    assert.ok(ledger.ok, JSON.stringify(ledger));
    assert.equal(ledger.confirmed, 2);
    assert.equal(ledger.held, 1);
    assert.equal(ledger.available, 0);
  });

  test('when a hold expires, then its seats pass to the next in line, confirming it is 410, and seats nobody waits for return to sale', async (ctx) => {
    const event = await t.createEvent({ capacity: 1 });
    const [a, w1, w2, other] = await t.registerUsers(4, 'expiry');
    const sold = await book(a.token, event.id);
    await join(w1.token, event.id);
    await join(w2.token, event.id);
    await t.api('POST', `/v1/bookings/${sold.body.id}/cancel`, { token: a.token });
    const first = await offered(w1.token, event.id);
    assert.equal(
      (await t.api('POST', `/v1/holds/${first.offer.holdId}/confirm`, { token: other.token })).status,
      404,
      'another person cannot confirm it',
    );

    const second = await offered(w2.token, event.id);
    assert.ok(Date.parse(second.offer.expiresAt) > Date.parse(first.offer.expiresAt));
    // The last in line leaves while offered: nobody waits, so the seat goes back on sale. On a machine
    // so slow that this hold ran out first, its expiry puts the seat back on sale instead: a 404 is
    // right only then.
    const left = await t.api('DELETE', `/v1/events/${event.id}/waitlist/me`, { token: w2.token });
    if (left.status !== 204) {
      assert.equal(left.status, 404, JSON.stringify(left.body));
      assert.ok(Date.now() >= Date.parse(second.offer.expiresAt), `404 before the hold ran out: ${left.body.detail}`);
      assert.equal((await mine(w2.token, event.id)).body.status, 'expired');
      ctx.diagnostic(`the second hold expired before its holder could leave; left ${left.status}`);
    }
    assert.equal((await mine(w1.token, event.id)).body.status, 'expired');
    const late = await t.api('POST', `/v1/holds/${first.offer.holdId}/confirm`, { token: w1.token });
    assert.equal(late.status, 410);
    assert.equal(late.body.code, 'HOLD_EXPIRED');
    const back = await eventually('seat on sale', async () => {
      const r = await t.api('GET', `/v1/events/${event.id}`);
      return r.body.available === 1 ? r.body : undefined;
    });
    assert.equal(back.held, 0);
    assert.equal((await book(other.token, event.id)).status, 201);
    assert.ok((await readSeatLedger(t.db, event.id)).ok);
  });

  test("when an admin raises an entry's priority tier, then it moves ahead of earlier joiners", async () => {
    const event = await t.createEvent({ capacity: 1 });
    const [a, w1, w2] = await t.registerUsers(3, 'tier');
    await book(a.token, event.id);
    await join(w1.token, event.id);
    const second = await join(w2.token, event.id);
    assert.equal(
      (
        await t.api('PATCH', `/v1/events/${event.id}/waitlist/${second.body.id}`, {
          token: w2.token,
          body: { priority: 5 },
        })
      ).status,
      403,
    );
    const raised = await t.api('PATCH', `/v1/events/${event.id}/waitlist/${second.body.id}`, {
      token: t.adminToken,
      body: { priority: 5 },
    });
    assert.equal(raised.status, 200);
    assert.equal(raised.body.position, 1);
    assert.equal((await mine(w1.token, event.id)).body.position, 2);
    const queue = await t.api('GET', `/v1/events/${event.id}/waitlist?limit=1`, { token: t.adminToken });
    assert.equal(queue.body.items[0].userId, w2.id);
    const rest = await t.api('GET', `/v1/events/${event.id}/waitlist?limit=1&cursor=${queue.body.nextCursor}`, {
      token: t.adminToken,
    });
    assert.deepEqual(
      rest.body.items.map((e: { userId: string; position: number }) => [e.userId, e.position]),
      [[w1.id, 2]],
    );
  });

  test('when cancellations, confirmations and new bookings race, then no seat is sold twice and every seat is in one place', async () => {
    const capacity = 30;
    const event = await t.createEvent({ capacity, maxTicketsPerUser: 1 });
    const buyers = await t.registerUsers(capacity, 'race-buy');
    const waiting = await t.registerUsers(20, 'race-wait');
    const latecomers = await t.registerUsers(10, 'race-late');
    const sold = await Promise.all(buyers.map((u) => book(u.token, event.id)));
    assert.ok(sold.every((r) => r.status === 201));
    for (const w of waiting) assert.equal((await join(w.token, event.id)).status, 201);

    const confirmations = waiting.slice(0, 15).map(async (w) => {
      const entry = await offered(w.token, event.id);
      return t.api('POST', `/v1/holds/${entry.offer.holdId}/confirm`, { token: w.token });
    });
    const cancels = sold
      .slice(0, 15)
      .map((r, i) => t.api('POST', `/v1/bookings/${r.body.id}/cancel`, { token: buyers[i]?.token }));
    const grabs = latecomers.map((u) => book(u.token, event.id));
    const [cancelled, grabbed] = await Promise.all([Promise.all(cancels), Promise.all(grabs)]);
    assert.ok(cancelled.every((r) => r.status === 200));
    assert.ok(
      grabbed.every((r) => r.status === 409 && r.body.code === 'SOLD_OUT'),
      'released seats never go on sale while people wait',
    );
    const confirmed = (await Promise.all(confirmations)).filter((r) => r.status === 201);
    assert.equal(confirmed.length, 15, 'the first 15 in line booked the 15 seats that came back');
    const rest = await Promise.all(waiting.slice(15).map((w) => mine(w.token, event.id)));
    assert.deepEqual(
      rest.map((r) => [r.body.status, r.body.position]),
      [1, 2, 3, 4, 5].map((p) => ['waiting', p]),
    );

    const ledger = await readSeatLedger(t.db, event.id);
    assert.ok(ledger.ok, JSON.stringify(ledger));
    assert.equal(ledger.confirmed, capacity);
    assert.equal(ledger.held + ledger.setAside + ledger.available, 0);
    const { rows } = await t.db.query<{ user_id: string }>(
      `SELECT user_id FROM bookings WHERE event_id = $1 AND status = 'confirmed' AND hold_id IS NOT NULL`,
      [event.id],
    );
    assert.deepEqual(new Set(rows.map((r) => r.user_id)), new Set(waiting.slice(0, 15).map((w) => w.id)));
  });
});
