// The links in mails, clicked in headless Chromium against the real system:
// the waitlist offer opens a hold page (what is held, until when), one click
// books the seats, and the ticket page shows QR codes a camera reads as the
// tickets' codes. No page may log a script error or a policy violation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Ticket } from '../../protocol/index.js';
import { formatWhen } from '../../actors/mailer/public.js';
import { artifactPath, launchChromium } from '../../ops/testing/dashboard-browser.js';
import { readQr } from './fixtures/qr-reader.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { Mailbox } from '../../ops/testing/mailbox.js';

const LINK = /https?:\/\/[^\s"<>]+\/pages\/(holds|tickets)\/[0-9a-f-]{36}\/[A-Za-z0-9_-]{22}/;

describe('pages linked from mails', () => {
  let t: TestSystem;
  let box: Mailbox;
  let browser: Browser | undefined;
  before(async () => {
    [t, browser] = await Promise.all([startTestSystem(), launchChromium()]);
    box = new Mailbox(t.system.mailSink!.dir);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  const open = async (url: string, complaints: string[]): Promise<Page> => {
    const page = await browser!.newPage({ viewport: { width: 480, height: 1400 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') complaints.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
    await page.goto(url);
    return page;
  };

  test("when the offer mail's link is opened and confirmed, then the seats are booked and the ticket page shows readable QR codes", async () => {
    const event = await t.createEvent({ name: 'Door night', capacity: 2 });
    const [holder, waiter] = await t.registerUsers(2, 'pages');
    const held = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: holder.token, body: { quantity: 2 } });
    assert.equal(
      (await t.api('POST', `/v1/events/${event.id}/waitlist`, { token: waiter.token, body: { quantity: 2 } })).status,
      201,
    );
    assert.equal((await t.api('POST', `/v1/bookings/${held.body.id}/cancel`, { token: holder.token })).status, 200);
    const [offer] = await box.waitFor(waiter.email, { subject: /^Seats held for you/, timeoutMs: 60_000 });
    const holdLink = LINK.exec(offer.text ?? '')?.[0] ?? '';
    assert.ok(holdLink.startsWith(`${t.url}/pages/holds/`), `the link reaches this edge: ${holdLink}`);
    const entry = (await t.api('GET', `/v1/events/${event.id}/waitlist/me`, { token: waiter.token })).body;

    const complaints: string[] = [];
    const page = await open(holdLink, complaints);
    assert.equal(await page.textContent('h1'), 'Door night');
    assert.equal(await page.textContent('.held'), '2 seats');
    assert.equal(await page.textContent('.until'), formatWhen(entry.offer.expiresAt));
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await page.textContent('h1'), 'Your seats are booked');
    const bookings = (await t.api('GET', '/v1/bookings', { token: waiter.token })).body.items;
    assert.deepEqual(
      bookings.map((b: { eventId: string; quantity: number; status: string }) => [b.eventId, b.quantity, b.status]),
      [[event.id, 2, 'confirmed']],
    );

    await Promise.all([page.waitForNavigation(), page.click('a')]);
    assert.match(page.url(), new RegExp(`/pages/tickets/${bookings[0].id}/`));
    const tickets = (await t.api('GET', `/v1/bookings/${bookings[0].id}/tickets`, { token: waiter.token })).body
      .items as Ticket[];
    const shown = await page.$$('.ticket .qr svg');
    assert.equal(shown.length, 2);
    const read = await Promise.all(shown.map(async (svg) => readQr(await svg.screenshot())));
    assert.deepEqual(read.sort(), tickets.map((x) => x.code).sort());
    await page.screenshot({ path: await artifactPath('ticket-page.png'), fullPage: true });

    // Once confirmed, the same link only says so.
    const again = await open(holdLink, complaints);
    assert.match((await again.textContent('.status')) ?? '', /already confirmed/);
    assert.deepEqual(complaints, []);
  });

  test('when a link is altered, then the page says it is not valid and shows nothing', async () => {
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'pages-forged');
    const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: u.token, body: { quantity: 1 } });
    const [mail] = await box.waitFor(u.email, { timeoutMs: 60_000 });
    const link = LINK.exec(mail.text ?? '')?.[0] ?? '';
    assert.ok(link.includes(booked.body.id), link);
    const ok = await fetch(link);
    assert.equal(ok.status, 200);
    const forged = await fetch(`${link.slice(0, -3)}${link.endsWith('AAA') ? 'BBB' : 'AAA'}`);
    assert.equal(forged.status, 404);
    assert.doesNotMatch(await forged.text(), /<svg/);
  });
});
