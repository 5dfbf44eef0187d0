// The live dashboard in headless Chromium against the real system: the page
// loads with an admin token under its content policy, shows the analytics
// figures, and moves when a booking is made through the API (the event's
// utilization bar, the live chart, the tickets total as the bookings table
// says), without a script error or a policy violation. A screenshot is kept
// in test-artifacts/. Needs the analytics API (GET /v1/admin/analytics/summary).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import type { AnalyticsSummary } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { artifactPath, launchChromium } from '../../ops/testing/dashboard-browser.js';

const WAIT_MS = 60_000;
const SUMMARY = '/v1/admin/analytics/summary';

let t: TestSystem;
let browser: Browser | undefined;
before(async () => {
  [t, browser] = await Promise.all([startTestSystem(), launchChromium()]);
  const probe = await t.api('GET', SUMMARY, { token: t.adminToken });
  if (probe.status === 404)
    throw new Error(
      `${SUMMARY} answers 404: the page reads the analytics API, which comes with the analytics branch; merge it first`,
    );
});
after(async () => {
  await browser?.close();
  await t?.stop();
});

/** Script errors and content-policy violations the page reports: there must be none. */
async function openPage(fragment: string, complaints: string[]): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') complaints.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
  await page.goto(`${t.url}/dashboard${fragment}`);
  return page;
}

const ticketsSold = async (): Promise<number> =>
  Number(
    (await t.db.query("SELECT coalesce(sum(quantity), 0) AS n FROM bookings WHERE status = 'confirmed'")).rows[0].n,
  );

/** The analytics actor aggregates the stream asynchronously: wait until its summary has the event's tickets. */
async function analyticsHas(eventId: string, tickets: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = await t.api<AnalyticsSummary>('GET', SUMMARY, { token: t.adminToken });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.topEvents.find((e) => e.eventId === eventId)?.tickets === tickets) return;
    if (Date.now() > deadline)
      assert.fail(
        `the summary's top events never showed ${tickets} tickets for ${eventId}: ${JSON.stringify(r.body.topEvents)}`,
      );
    await sleep(200);
  }
}

async function book(token: string, eventId: string, quantity: number): Promise<void> {
  const r = await t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

test("when an admin opens /dashboard and a booking is made through the API, then the page's figures change live", async (ctx) => {
  const event = await t.createEvent({ name: 'Dashboard live test', capacity: 40, price: 1500 });
  const [user] = await t.registerUsers(1, 'dash-page');
  await book(user.token, event.id, 2);
  await analyticsHas(event.id, 2);

  const complaints: string[] = [];
  const page = await openPage(`#token=${t.adminToken}`, complaints);
  await page.waitForSelector('#status[data-state="live"]', { timeout: WAIT_MS });
  assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
  const row = `tr[data-event-id="${event.id}"]`;
  await page.waitForSelector(`${row}[data-tickets="2"] .bar[data-utilization="0.05"]`, { timeout: WAIT_MS });
  await page.waitForSelector(`#total-tickets[data-value="${await ticketsSold()}"]`, { timeout: WAIT_MS });
  const chartBefore = Number(await page.getAttribute('#rate-chart', 'data-last-minute'));

  await book(user.token, event.id, 3);
  await page.waitForSelector(`${row}[data-tickets="5"] .bar[data-utilization="0.125"]`, { timeout: WAIT_MS });
  // Run in the page (this file is compiled without the DOM's types).
  await page.waitForFunction(
    `Number(document.getElementById('rate-chart').dataset.lastMinute) >= ${chartBefore + 1}`,
    undefined,
    { timeout: WAIT_MS },
  );
  const sold = await ticketsSold();
  assert.equal(sold, 5);
  await page.waitForSelector(`#total-tickets[data-value="${sold}"]`, { timeout: WAIT_MS });
  assert.match((await page.textContent(`${row} .tickets`)) ?? '', /^5 \/ 40$/);
  // A figure only the analytics summary gives: the page re-read it after the frames.
  await page.waitForSelector('#total-utilization[data-value="0.125"]', { timeout: WAIT_MS });

  const screenshot = await artifactPath('dashboard.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  ctx.diagnostic(`screenshot: ${screenshot}`);
  assert.deepEqual(complaints, [], 'no script error or content-policy violation');
  await page.close();
});

test('when the page is opened with a non-admin token, then it refuses and asks for an admin token', async () => {
  const [user] = await t.registerUsers(1, 'dash-user');
  const page = await openPage(`#token=${user.token}`, []);
  await page.waitForSelector('#sign-in:not([hidden])', { timeout: WAIT_MS });
  assert.match((await page.textContent('#sign-in-reason')) ?? '', /not an admin/);
  assert.equal(
    await page.evaluate("localStorage.getItem('evently.dashboard.token')"),
    null,
    'the refused token is not kept',
  );
  assert.equal(await page.isHidden('#board'), true);
  await page.close();
});
