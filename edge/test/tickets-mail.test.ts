// The QR codes people get: the API's images and the confirmation mail's
// inline pictures, read back with a QR reader, and the re-sent mail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Ticket } from '../../protocol/index.js';
import { readQr } from './fixtures/qr-reader.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { Mailbox } from '../../ops/testing/mailbox.js';

describe('ticket QR codes', () => {
  let t: TestSystem;
  let box: Mailbox;
  before(async () => {
    t = await startTestSystem();
    box = new Mailbox(t.system.mailSink!.dir);
  });
  after(async () => {
    await t?.stop();
  });

  let buyers = 0;
  const bookTwo = async () => {
    const event = await t.createEvent({ name: 'QR night' });
    const [u] = await t.registerUsers(1, `qr${++buyers}`);
    const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: u.token, body: { quantity: 2 } });
    assert.equal(booked.status, 201);
    const listed = (await t.api('GET', `/v1/bookings/${booked.body.id}/tickets`, { token: u.token })).body
      .items as Ticket[];
    const [first, second] = listed;
    assert.ok(first && second && listed.length === 2, 'two tickets');
    const tickets: [Ticket, Ticket] = [first, second];
    return { user: u, bookingId: booked.body.id as string, tickets };
  };

  test("when a ticket's QR image is fetched, then the PNG reads back as its code and the SVG is an SVG", async () => {
    const {
      user,
      bookingId,
      tickets: [ticket],
    } = await bookTwo();
    const png = await fetch(`${t.url}/v1/bookings/${bookingId}/tickets/${ticket.id}/qr?format=png`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(readQr(Buffer.from(await png.arrayBuffer())), ticket.code);
    const svg = await t.api('GET', `/v1/bookings/${bookingId}/tickets/${ticket.id}/qr`, { token: user.token });
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(String(svg.body), /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((await t.api('GET', `/v1/bookings/${bookingId}/tickets/${ticket.id}/qr`)).status, 401);
  });

  test("when a booking is confirmed, then its mail shows each ticket's QR inline, and each reads back as that ticket's code", async () => {
    const { user, bookingId, tickets } = await bookTwo();
    const [mail] = await box.waitFor(user.email, { subject: /^Your tickets for QR night$/, timeoutMs: 60_000 });
    const pictures = mail.attachments.filter((a) => a.contentType === 'image/png');
    assert.equal(pictures.length, 2);
    const html = String(mail.html);
    // mailparser, like a mail client, resolves each cid: reference to its part (as a data URI).
    for (const picture of pictures)
      assert.ok(
        html.includes(`data:image/png;base64,${picture.content.toString('base64')}`),
        `the HTML shows ${picture.cid}`,
      );
    assert.deepEqual(pictures.map((p) => readQr(p.content)).sort(), tickets.map((x) => x.code).sort());
    assert.match(mail.text ?? '', new RegExp(`${t.url}/pages/tickets/${bookingId}/[A-Za-z0-9_-]{22}`));
  });

  test('when the owner asks for the mail again, then a second one comes; nobody else may ask', async () => {
    const { user, bookingId } = await bookTwo();
    await box.waitFor(user.email, { timeoutMs: 60_000 });
    const [other] = await t.registerUsers(1, 'qr-other');
    assert.equal((await t.api('POST', `/v1/bookings/${bookingId}/tickets/resend`, { token: other.token })).status, 404);
    const resent = await t.api('POST', `/v1/bookings/${bookingId}/tickets/resend`, { token: user.token });
    assert.deepEqual([resent.status, resent.body], [202, { queued: true }]);
    const mails = await box.waitFor(user.email, { count: 2, timeoutMs: 60_000 });
    assert.equal(mails[1]?.attachments.filter((a) => a.contentType === 'image/png').length, 2);
  });
});
