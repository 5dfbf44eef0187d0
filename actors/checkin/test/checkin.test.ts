// Tickets and check-in against the real system: codes verified with the
// published keys, exactly-once scans (twenty gates at once), nonce replays,
// revocation, wrong event, key rotation, the offline batch upload and roles.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  peekTicketCode,
  publicKeyFromRaw,
  signTicketCode,
  verifyTicketCode,
  type CheckinMessage,
  type KeyList,
  type Ticket,
} from '../../../protocol/index.js';
import { startTestSystem, type TestSystem, type Tuple } from '../../../ops/testing/harness.js';
import { LiveTestClient } from '../../../ops/testing/live-client.js';

describe('tickets and check-in', () => {
  let t: TestSystem;
  let staff: string;
  let buyer: { id: string; token: string };
  before(async () => {
    t = await startTestSystem();
    const [s, u] = await t.registerUsers(2, 'door');
    // The admin route that grants roles lives on another branch: grant it in the database, then sign in again.
    await t.db.query(`UPDATE users SET role = 'staff' WHERE id = $1`, [s.id]);
    staff = (await t.api('POST', '/v1/auth/login', { body: { email: s.email, password: 'correct horse battery' } }))
      .body.token;
    buyer = u;
  });
  after(async () => {
    await t?.stop();
  });

  const bookTickets = async <N extends number>(eventId: string, quantity: N, token = buyer.token) => {
    const booked = await t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity } });
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    const tickets = await t.api('GET', `/v1/bookings/${booked.body.id}/tickets`, { token });
    assert.equal(tickets.status, 200, JSON.stringify(tickets.body));
    assert.equal(tickets.body.items.length, quantity, 'one ticket per seat');
    return { bookingId: booked.body.id as string, tickets: tickets.body.items as Tuple<Ticket, N> };
  };
  const scan = (code: string, extra: Record<string, unknown> = {}, token = staff) =>
    t.api('POST', '/v1/checkin', { token, body: { code, ...extra } });

  test('when a booking is read, then it has one valid ticket per seat whose code verifies offline with the published keys', async () => {
    const event = await t.createEvent();
    const { bookingId, tickets } = await bookTickets(event.id, 3);
    assert.deepEqual(
      tickets.map((x) => [x.seq, x.status, x.bookingId, x.eventId]),
      [0, 1, 2].map((seq) => [seq, 'valid', bookingId, event.id]),
    );
    assert.equal(new Set(tickets.map((x) => x.id)).size, 3);
    const keys = (await t.api('GET', '/v1/checkin/keys')).body as KeyList;
    const published = new Map(keys.keys.map((k) => [k.kid, publicKeyFromRaw(k.publicKey)]));
    for (const ticket of tickets)
      assert.equal(verifyTicketCode(ticket.code, (kid) => published.get(kid))?.seq, ticket.seq);
    const [other] = await t.registerUsers(1, 'nosy');
    assert.equal(
      (await t.api('GET', `/v1/bookings/${bookingId}/tickets`, { token: other.token })).status,
      404,
      'another user cannot read them',
    );
  });

  test('when a user (not staff) scans, then 403; staff and admins may', async () => {
    const event = await t.createEvent();
    const { tickets } = await bookTickets(event.id, 2);
    assert.equal((await scan(tickets[0].code, {}, buyer.token)).status, 403);
    assert.equal((await scan(tickets[0].code, {}, t.adminToken)).status, 200);
    assert.equal((await scan(tickets[1].code)).status, 200);
    assert.equal((await t.api('GET', `/v1/events/${event.id}/checkin`, { token: buyer.token })).status, 403);
  });

  test('when twenty gates scan one ticket at once, then exactly one gets ok and the others hear when and where it was checked in', async () => {
    const event = await t.createEvent();
    const {
      bookingId,
      tickets: [ticket],
    } = await bookTickets(event.id, 1);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, gate) => scan(ticket.code, { eventId: event.id, gate: `gate-${gate}` })),
    );
    const oks = replies.filter((r) => r.status === 200);
    assert.equal(oks.length, 1, JSON.stringify(replies.map((r) => r.status)));
    const winner = oks[0]?.body.ticket;
    assert.equal(winner.status, 'checked_in');
    for (const r of replies.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.code, 'ALREADY_CHECKED_IN');
      assert.ok(r.body.detail.includes(winner.gate) && r.body.detail.includes(winner.checkedInAt), r.body.detail);
    }
    const { rows } = await t.db.query('SELECT gate FROM checkins WHERE booking_id = $1', [bookingId]);
    assert.deepEqual(rows, [{ gate: winner.gate }]);
    const listed = await t.api('GET', `/v1/bookings/${bookingId}/tickets`, { token: buyer.token });
    assert.equal(listed.body.items[0].status, 'checked_in');
  });

  test('when a code is forged, truncated, or re-signed with another key, then 400 INVALID_TICKET', async () => {
    const event = await t.createEvent();
    const {
      tickets: [ticket],
    } = await bookTickets(event.id, 1);
    const raw = Buffer.from(ticket.code, 'base64url');
    raw.writeUInt8(raw.readUInt8(25) ^ 0x40, 25); // the booking id, under the original signature
    const claims = peekTicketCode(ticket.code)!;
    const resigned = signTicketCode(claims, generateKeyPairSync('ed25519').privateKey); // same kid, someone else's key
    for (const code of [raw.toString('base64url'), ticket.code.slice(0, 100), 'AAAA', resigned]) {
      const r = await scan(code);
      assert.equal(r.status, 400, code);
      assert.equal(r.body.code, 'INVALID_TICKET');
    }
  });

  test('when a scan is sent again with its nonce, then it gets the first answer, not a second check-in', async () => {
    const event = await t.createEvent();
    const {
      tickets: [ticket],
    } = await bookTickets(event.id, 1);
    const nonce = randomUUID();
    const first = await scan(ticket.code, { nonce, gate: 'east' });
    const replay = await scan(ticket.code, { nonce, gate: 'east' });
    assert.equal(first.status, 200);
    assert.deepEqual([replay.status, replay.body], [200, first.body]);
    assert.equal((await scan(ticket.code, { nonce: randomUUID() })).body.code, 'ALREADY_CHECKED_IN');
  });

  test('when a booking or its event is cancelled, then its tickets are revoked and listed for offline scanners', async () => {
    const event = await t.createEvent();
    const since = new Date(Date.now() - 60_000).toISOString();
    const cancelled = await bookTickets(event.id, 2);
    const kept = await bookTickets(event.id, 1);
    assert.equal(
      (await t.api('POST', `/v1/bookings/${cancelled.bookingId}/cancel`, { token: buyer.token })).status,
      200,
    );
    const r = await scan(cancelled.tickets[0].code);
    assert.deepEqual([r.status, r.body.code], [409, 'TICKET_REVOKED']);
    const listed = await t.api('GET', `/v1/events/${event.id}/checkin/revoked?since=${encodeURIComponent(since)}`, {
      token: staff,
    });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.items.map((i: { ticketId: string }) => i.ticketId).sort(),
      cancelled.tickets.map((x) => x.id).sort(),
    );
    assert.ok(Date.parse(listed.body.until) > Date.parse(since));
    assert.equal(
      (await t.api('GET', `/v1/bookings/${cancelled.bookingId}/tickets`, { token: buyer.token })).body.items[0].status,
      'revoked',
    );

    assert.equal((await t.api('POST', `/v1/events/${event.id}/cancel`, { token: t.adminToken })).status, 200);
    assert.equal((await scan(kept.tickets[0].code)).body.code, 'TICKET_REVOKED');
  });

  test('when a ticket is scanned for another event, then 409 WRONG_EVENT and it stays valid', async () => {
    const [event, other] = [await t.createEvent(), await t.createEvent()];
    const {
      tickets: [ticket],
    } = await bookTickets(event.id, 1);
    const r = await scan(ticket.code, { eventId: other.id });
    assert.deepEqual([r.status, r.body.code], [409, 'WRONG_EVENT']);
    assert.equal((await scan(ticket.code, { eventId: event.id })).status, 200);
  });

  test('when two offline gates upload scans of one ticket, then the earliest scan wins whatever the upload order', async () => {
    const event = await t.createEvent();
    const {
      bookingId,
      tickets: [ticket, second],
    } = await bookTickets(event.id, 2);
    const base = Date.now() - 600_000;
    const at = (s: number) => new Date(base + s * 1000).toISOString();
    const late = await t.api('POST', '/v1/checkin/batch', {
      token: staff,
      body: { scans: [{ code: ticket.code, scannedAt: at(30), gate: 'west', nonce: randomUUID() }] },
    });
    assert.equal(late.body.results[0].result, 'ok');
    const upload = await t.api('POST', '/v1/checkin/batch', {
      token: staff,
      body: {
        scans: [
          { code: second.code, scannedAt: at(50), gate: 'north', nonce: randomUUID() },
          { code: ticket.code, scannedAt: at(10), gate: 'north', nonce: randomUUID() },
          { code: second.code, scannedAt: at(40), gate: 'south', nonce: randomUUID() },
          { code: 'AAAA', scannedAt: at(1), gate: 'south', nonce: 'junk' },
        ],
      },
    });
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
    assert.deepEqual(
      upload.body.results.map((r: { result: string }) => r.result),
      ['ALREADY_CHECKED_IN', 'ok', 'ok', 'INVALID_TICKET'],
    );
    const { rows } = await t.db.query<{ seq: number; gate: string; scanned_at: Date }>(
      'SELECT seq, gate, scanned_at FROM checkins WHERE booking_id = $1 ORDER BY seq',
      [bookingId],
    );
    assert.deepEqual(
      rows.map((r) => [r.seq, r.gate, r.scanned_at.toISOString()]),
      [
        [0, 'north', at(10)],
        [1, 'south', at(40)],
      ],
    );
    const figures = await t.api('GET', `/v1/events/${event.id}/checkin`, { token: staff });
    assert.deepEqual(figures.body, { eventId: event.id, checkedIn: 2, sold: 2, gates: { north: 1, south: 1 } });
  });

  test('when the signing key is rotated, then tickets signed before stay valid and new codes use the new key', async () => {
    const event = await t.createEvent();
    const {
      bookingId,
      tickets: [before1, before2],
    } = await bookTickets(event.id, 2);
    const oldKid = Buffer.from(before1.code, 'base64url').subarray(1, 5).toString('base64url');
    const rotated = await t.api('POST', '/v1/admin/checkin/keys/rotate', { token: t.adminToken });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal((await t.api('POST', '/v1/admin/checkin/keys/rotate', { token: staff })).status, 403);
    const kids = (rotated.body as KeyList).keys.map((k) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.length >= 2, JSON.stringify(kids));
    assert.equal((await scan(before1.code)).status, 200, 'a code of the old key');
    // Every thread picks the new key up within seconds.
    const newKid = kids[kids.length - 1];
    let fresh: Ticket | undefined;
    for (const until = Date.now() + 60_000; Date.now() < until && !fresh;) {
      const listed = (await t.api('GET', `/v1/bookings/${bookingId}/tickets`, { token: buyer.token })).body
        .items as Ticket[];
      fresh = listed.find(
        (x) => x.seq === 1 && Buffer.from(x.code, 'base64url').subarray(1, 5).toString('base64url') === newKid,
      );
      if (!fresh) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(fresh, 'a code of the new key');
    assert.notEqual(fresh.code, before2.code);
    assert.equal((await scan(fresh.code)).status, 200);
    assert.equal(
      (await scan(before2.code)).body.code,
      'ALREADY_CHECKED_IN',
      'one ticket, whichever key signed its code',
    );
  });

  test("when staff follow an event's check-in live, then the figure comes at once and moves as gates scan; a user is refused", async () => {
    const event = await t.createEvent();
    const { tickets } = await bookTickets(event.id, 3);
    const door = await LiveTestClient.open(t.url, { authorization: `Bearer ${staff}` });
    const nosy = await LiveTestClient.open(t.url, { authorization: `Bearer ${buyer.token}` });
    try {
      const figure = (checkedIn: number) => (m: { type: string }) =>
        m.type === 'checkin' && (m as CheckinMessage).checkedIn === checkedIn;
      door.send({ type: 'subscribe-checkin', eventId: event.id });
      const first = await door.next<CheckinMessage>(figure(0), 'the figure now', 20_000);
      assert.deepEqual([first.sold, first.gates], [3, {}]);
      assert.equal((await scan(tickets[0].code, { gate: 'north' })).status, 200);
      assert.equal((await scan(tickets[1].code, { gate: 'south' })).status, 200);
      const moved = await door.next<CheckinMessage>(figure(2), '2 checked in', 20_000);
      assert.deepEqual([moved.eventId, moved.sold, moved.gates], [event.id, 3, { north: 1, south: 1 }]);
      nosy.send({ type: 'subscribe-checkin', eventId: event.id });
      const refused = await nosy.next((m) => m.type === 'error', 'a refusal', 20_000);
      assert.equal((refused as { code: string }).code, 'FORBIDDEN');
    } finally {
      door.socket.close();
      nosy.socket.close();
    }
  });
});
