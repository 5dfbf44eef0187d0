// The dashboard's check-in panel in headless Chromium: for a top event it
// shows `checked in / sold` and the count per gate, and moves as a gate scans
// (pushed over the WebSocket, no reload), without a script error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Ticket } from '../../protocol/index.js';
import { artifactPath, launchChromium } from '../../ops/testing/dashboard-browser.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

const WAIT_MS = 60_000;

let t: TestSystem;
let browser: Browser | undefined;
before(async () => {
  [t, browser] = await Promise.all([startTestSystem(), launchChromium()]);
});
after(async () => {
  await browser?.close();
  await t?.stop();
});

test("when a gate scans a ticket, then the dashboard's check-in figure and gate count move live", async () => {
  const event = await t.createEvent({ name: 'Door test' });
  const [u] = await t.registerUsers(1, 'dash-door');
  const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: u.token, body: { quantity: 2 } });
  assert.equal(booked.status, 201);
  const tickets = (await t.api('GET', `/v1/bookings/${booked.body.id}/tickets`, { token: u.token })).body
    .items as Ticket[];

  const complaints: string[] = [];
  const page = await browser!.newPage({ viewport: { width: 1280, height: 1200 } });
  page.on('console', (m) => {
    if (m.type() === 'error') complaints.push(m.text());
  });
  page.on('pageerror', (err) => complaints.push(err.message));
  await page.goto(`${t.url}/dashboard#token=${t.adminToken}`);
  const row = `#checkins tr[data-event-id="${event.id}"]`;
  // The event joins the top events once analytics has its booking; then its figure arrives.
  const shows = async (text: string) => {
    for (const until = Date.now() + WAIT_MS; ;) {
      if ((await page.$(`${row} .checked-in`)) && (await page.textContent(`${row} .checked-in`)) === text) return;
      if (Date.now() > until) assert.fail(`the dashboard never showed ${text} checked in`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await shows('0 / 2');
  assert.equal(
    (await t.api('POST', '/v1/checkin', { token: t.adminToken, body: { code: tickets[0]?.code, gate: 'north' } }))
      .status,
    200,
  );
  await shows('1 / 2');
  assert.equal(await page.textContent(`${row} .gates`), 'north: 1');
  await page.screenshot({ path: await artifactPath('dashboard-checkin.png'), fullPage: true });
  assert.deepEqual(complaints, []);
});
