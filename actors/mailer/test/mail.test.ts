// Mail end to end: API actions → domain events → the mailer actor → real
// SMTP → the stack's sink, where each mail is parsed as a mail client would.
// Redelivery, an SMTP outage, the dead-letter store and a bad address are
// driven for real (a republished event, a paused sink, a stored address).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { natsOptions } from '../../../platform/nats-connect.js';
import {
  DOMAIN_STREAM,
  domainShardFilter,
  domainSubject,
  readDomainMessage,
  shardOf,
  type DomainMessage,
} from '../../../protocol/index.js';
import { formatWhen } from '../mail-data.js';
import { CONSUMER } from '../reactions.js';
import { durableName } from '../../../platform/domain-stream.js';
import { startTestSystem, type TestSystem } from '../../../ops/testing/harness.js';
import { Mailbox } from '../../../ops/testing/mailbox.js';
import { eventuallyValue as eventually } from '../../../ops/testing/eventually.js';

const PUBLIC_URL = 'https://tickets.example.test';

describe('mail', () => {
  let t: TestSystem;
  let nc: NatsConnection;
  let box: Mailbox;
  before(async () => {
    t = await startTestSystem({ mailMaxAttempts: 5, mailRetryBaseMs: 250, publicUrl: PUBLIC_URL });
    nc = await connect(natsOptions(t.system.config, 'supervisor'));
    box = new Mailbox(t.system.mailSink!.dir);
  });
  after(async () => {
    await nc?.close();
    await t?.stop();
  });

  const book = async (token: string, eventId: string, quantity = 1) => {
    const r = await t.api('POST', `/v1/events/${eventId}/bookings`, { token, body: { quantity } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string };
  };
  const deliveriesOf = async (userId: string) =>
    (
      await t.db.query<{
        id: string;
        template: string;
        status: string;
        attempts: number;
        last_error: string | null;
        skip_reason: string | null;
        domain_event_id: string;
      }>(
        'SELECT id, template, status, attempts, last_error, skip_reason, domain_event_id FROM mail_deliveries WHERE user_id = $1 ORDER BY id',
        [userId],
      )
    ).rows;
  const deliveryOf = (userId: string, template: string) =>
    eventually(`a ${template} delivery`, async () => (await deliveriesOf(userId)).find((d) => d.template === template));
  /** True once the mailer's durable consumer of the event's shard has acknowledged everything. */
  const mailerCaughtUp = async (eventId: string) => {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(
      DOMAIN_STREAM,
      durableName(CONSUMER, shardOf(eventId, t.system.config.shards)),
    );
    return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
  };

  test('when a user books, then exactly one confirmation mail reaches them, with both parts and their name escaped in the HTML', async () => {
    const event = await t.createEvent({ name: 'Jazz & "Blues" night', venue: 'Hall <A>' });
    const r = await t.api('POST', '/v1/auth/register', {
      body: { email: `ann-${randomUUID()}@example.test`, password: 'correct horse battery', name: '<b>Ann & "Bo"</b>' },
    });
    const ann = { id: r.body.user.id as string, token: r.body.token as string, email: r.body.user.email as string };
    const booking = await book(ann.token, event.id, 2);

    const [mail] = await box.waitFor(ann.email);
    assert.equal(mail.subject, 'Your tickets for Jazz & "Blues" night');
    assert.match(mail.text ?? '', /Hello <b>Ann & "Bo"<\/b>,/);
    assert.match(mail.text ?? '', new RegExp(booking.id));
    assert.match(mail.text ?? '', /2 tickets/);
    const html = String(mail.html);
    assert.match(html, /Hello &lt;b&gt;Ann &amp; &quot;Bo&quot;&lt;\/b&gt;,/);
    assert.match(html, /Hall &lt;A&gt;/);
    assert.doesNotMatch(html, /<b>Ann/);
    assert.match(mail.messageId ?? '', /^<[0-9a-f-]{36}@evently\.local>$/);

    const sent = await eventually('the delivery recorded as sent', async () => {
      const d = (await deliveriesOf(ann.id)).find((x) => x.template === 'booking-confirmed');
      return d?.status === 'sent' ? d : undefined;
    });
    assert.equal(sent.attempts, 1);
    await eventually('the mailer to catch up', () => mailerCaughtUp(event.id));
    assert.equal((await box.to(ann.email)).length, 1, 'exactly one mail');
  });

  test("when a booking's domain event is delivered again, then nothing new is planned or sent", async () => {
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'redeliver');
    const booking = await book(u.token, event.id);
    await box.waitFor(u.email);
    const [first] = await deliveriesOf(u.id);
    assert.ok(first, 'the delivery of the first mail');

    // The message exactly as the stream holds it, published again (a new Nats-Msg-Id, so JetStream keeps it).
    const shard = shardOf(event.id, t.system.config.shards);
    const reader = await nc.jetstream().consumers.get(DOMAIN_STREAM, { filterSubjects: domainShardFilter(shard) });
    let original: DomainMessage | undefined;
    // To the end of the shard's stream, however slowly a loaded machine delivers it.
    for await (const m of await reader.fetch({ max_messages: 1000, expires: 60_000 })) {
      const message = readDomainMessage(m.json());
      if (message?.events.some((e) => e.type === 'booking.confirmed' && e.data.id === booking.id)) original = message;
      if (m.info.pending === 0) break;
    }
    assert.ok(original, 'the booking.confirmed in the stream');
    const ack = await nc
      .jetstream()
      .publish(domainSubject('booking.confirmed', shard), JSON.stringify(original), { msgID: randomUUID() });
    assert.equal(ack.duplicate, false);

    await eventually('the mailer to take the redelivery', () => mailerCaughtUp(event.id));
    const after = await deliveriesOf(u.id);
    assert.deepEqual(
      after.map((d) => d.id),
      [first.id],
      'no second delivery',
    );
    assert.equal((await box.to(u.email)).length, 1, 'no second mail');
  });

  test('when the SMTP server is down, then the mail is retried with backoff and delivered once it is back', async () => {
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'outage');
    await t.system.mailSink!.pause();
    try {
      await book(u.token, event.id);
      const failing = await eventually('two failed attempts', async () => {
        const d = (await deliveriesOf(u.id))[0];
        if (!d || d.attempts < 2) return undefined;
        // Failed, not merely claimed: a claim moves the next attempt two minutes out, a failure only by the backoff.
        const {
          rows: [r],
        } = await t.db.query<{ settled: boolean }>(
          `SELECT next_attempt_at < now() + interval '60 seconds' AS settled FROM mail_deliveries WHERE id = $1`,
          [d.id],
        );
        return r?.settled ? d : undefined;
      });
      assert.equal(failing.status, 'pending');
      assert.match(failing.last_error ?? '', /ECONNREFUSED/);
    } finally {
      await t.system.mailSink!.resume();
    }
    await box.waitFor(u.email);
    const sent = await eventually('the delivery recorded as sent', async () => {
      const d = (await deliveriesOf(u.id))[0];
      return d?.status === 'sent' ? d : undefined;
    });
    assert.ok(sent.attempts >= 3);
    assert.equal((await box.to(u.email)).length, 1);
  });

  test('when every attempt fails, then the mail is dead-lettered for admins, and their retry sends it', async () => {
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'dead');
    await t.system.mailSink!.pause();
    let dead: { id: string };
    try {
      await book(u.token, event.id);
      dead = await eventually(
        'the dead letter',
        async () => {
          const d = (await deliveriesOf(u.id))[0];
          return d?.status === 'dead' ? d : undefined;
        },
        30_000,
      );
    } finally {
      await t.system.mailSink!.resume();
    }
    const listed = await t.api('GET', '/v1/admin/mail/dead-letters?limit=100', { token: t.adminToken });
    assert.equal(listed.status, 200);
    const item = listed.body.items.find((d: { id: string }) => d.id === dead.id);
    assert.ok(item, 'listed');
    assert.equal(item.attempts, 5);
    assert.equal(item.recipient, u.email);
    assert.match(item.lastError, /ECONNREFUSED/);
    assert.equal((await t.api('GET', '/v1/admin/mail/dead-letters', { token: u.token })).status, 403);

    const retried = await t.api('POST', `/v1/admin/mail/dead-letters/${dead.id}/retry`, { token: t.adminToken });
    assert.equal(retried.status, 202);
    assert.equal(retried.body.status, 'pending');
    await box.waitFor(u.email);
    const again = await t.api('POST', `/v1/admin/mail/dead-letters/${dead.id}/retry`, { token: t.adminToken });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'MAIL_NOT_DEAD');
    assert.equal(
      (await t.api('POST', `/v1/admin/mail/dead-letters/${randomUUID()}/retry`, { token: t.adminToken })).body.code,
      'NOT_FOUND',
    );
  });

  test('when the organiser cancels an event, then each booking gets one cancellation mail, and a booking cancelled by its owner gets its own', async () => {
    const event = await t.createEvent({ name: 'Doomed gala' });
    const other = await t.createEvent({ name: 'Still on' });
    const [a, b] = await t.registerUsers(2, 'cancelled');
    await book(a.token, event.id, 2);
    await book(b.token, event.id, 1);
    const own = await book(a.token, other.id);
    await box.waitFor(a.email, { count: 2 });
    await box.waitFor(b.email);

    assert.equal((await t.api('POST', `/v1/events/${event.id}/cancel`, { token: t.adminToken })).status, 200);
    assert.equal((await t.api('POST', `/v1/bookings/${own.id}/cancel`, { token: a.token })).status, 200);
    const [toA] = await box.waitFor(a.email, { subject: /^Cancelled: Doomed gala$/ });
    const [toB] = await box.waitFor(b.email, { subject: /^Cancelled: Doomed gala$/ });
    assert.match(toA.text ?? '', /2 tickets is cancelled/);
    assert.match(toB.text ?? '', /1 ticket is cancelled/);
    await box.waitFor(a.email, { subject: /^Booking cancelled: Still on$/ });

    await eventually('the mailer to catch up', () => mailerCaughtUp(event.id));
    for (const u of [a, b]) {
      const templates = (await deliveriesOf(u.id))
        .map((d) => d.template)
        .filter((x) => x !== 'booking-confirmed')
        .sort();
      assert.deepEqual(templates, u === a ? ['booking-cancelled', 'event-cancelled'] : ['event-cancelled'], u.email);
    }
    assert.equal((await box.to(b.email)).length, 2, 'confirmation and cancellation, nothing else');
  });

  test('when seats come back to a waitlisted person, then the offer mail carries the confirm link and the expiry', async () => {
    const event = await t.createEvent({ name: 'Sold out', capacity: 1 });
    const [holder, waiter] = await t.registerUsers(2, 'offer');
    const booking = await book(holder.token, event.id);
    assert.equal(
      (await t.api('POST', `/v1/events/${event.id}/waitlist`, { token: waiter.token, body: { quantity: 1 } })).status,
      201,
    );
    const [joined] = await box.waitFor(waiter.email, { subject: /waitlist/ });
    assert.match(joined.text ?? '', /number 1 in line/);

    await t.api('POST', `/v1/bookings/${booking.id}/cancel`, { token: holder.token });
    const [offer] = await box.waitFor(waiter.email, { subject: /^Seats held for you: Sold out$/ });
    const entry = (await t.api('GET', `/v1/events/${event.id}/waitlist/me`, { token: waiter.token })).body;
    // A page a browser opens (not the POST-only API route), signed for this hold.
    const link = new RegExp(`${PUBLIC_URL.replaceAll('.', '\\.')}/pages/holds/${entry.offer.holdId}/[A-Za-z0-9_-]{22}`);
    assert.match(offer.text ?? '', link, 'link in text');
    assert.match(String(offer.html), new RegExp(`href="${link.source}"`), 'link in html');
    assert.ok((offer.text ?? '').includes(`held for you until ${formatWhen(entry.offer.expiresAt)}`), 'expiry');
  });

  test('when the organiser moves an event, then ticket holders hear what changed; a price change sends nothing', async () => {
    const event = await t.createEvent({ name: 'Moving show', venue: 'Old hall' });
    const [u] = await t.registerUsers(1, 'changed');
    await book(u.token, event.id);
    await box.waitFor(u.email);
    assert.equal(
      (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { price: 9900 } })).status,
      200,
    );
    assert.equal(
      (await t.api('PATCH', `/v1/events/${event.id}`, { token: t.adminToken, body: { venue: 'New hall' } })).status,
      200,
    );
    const [changed] = await box.waitFor(u.email, { subject: /^Changed: Moving show$/ });
    assert.match(changed.text ?? '', /Venue: New hall \(was Old hall\)/);
    await eventually('the mailer to catch up', () => mailerCaughtUp(event.id));
    assert.equal((await box.to(u.email)).length, 2, 'the price change sent nothing');
  });

  test('when a reminder is due, then each ticket holder gets one, however many bookings they have', async () => {
    const event = await t.createEvent({ name: 'Tomorrow' });
    const [a, b] = await t.registerUsers(2, 'remind');
    await book(a.token, event.id);
    await book(a.token, event.id);
    await book(b.token, event.id);
    // What the scheduler's reminder job publishes.
    const reminder = {
      id: randomUUID(),
      type: 'event.reminder',
      eventId: event.id,
      version: event.version,
      occurredAt: new Date().toISOString(),
      requestId: randomUUID(),
      availability: null,
      data: { window: '24h', startsAt: event.startsAt },
    };
    await nc
      .jetstream()
      .publish(domainSubject('event.reminder', shardOf(event.id, t.system.config.shards)), JSON.stringify(reminder), {
        msgID: reminder.id,
      });
    const [toA] = await box.waitFor(a.email, { subject: /^Reminder: Tomorrow starts in 24 hours$/ });
    assert.match(toA.text ?? '', /you have 2 tickets/);
    await box.waitFor(b.email, { subject: /^Reminder/ });
    await eventually('the mailer to catch up', () => mailerCaughtUp(event.id));
    assert.equal((await box.to(a.email)).filter((m) => /^Reminder/.test(m.subject ?? '')).length, 1);
  });

  test("when a recipient's stored address is malformed, then the mail is skipped with the reason and nothing is sent", async () => {
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'malformed');
    // Registration refuses such an address; this is data from before that check, or imported.
    await t.db.query('UPDATE users SET email = $2 WHERE id = $1', [u.id, 'not an address']);
    await book(u.token, event.id);
    const skipped = await deliveryOf(u.id, 'booking-confirmed');
    assert.equal(skipped.status, 'skipped');
    assert.equal(skipped.skip_reason, 'malformed-address');
    await eventually('the sender to go round', async () =>
      (await t.db.query(`SELECT 1 FROM mail_deliveries WHERE status = 'pending'`)).rowCount === 0 ? true : undefined,
    );
    assert.equal((await box.to('not an address')).length, 0);
  });

  test('when an admin previews a template, then it renders with sample data as HTML, text or JSON', async () => {
    const html = await t.api('GET', '/v1/admin/mail/preview/waitlist-offer', { token: t.adminToken });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html.body, /^<!doctype html>/);
    assert.match(html.body, /&lt;b&gt;Ann &amp;/);
    const text = await t.api('GET', '/v1/admin/mail/preview/waitlist-offer?format=text', { token: t.adminToken });
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(text.body, /^Hello <b>Ann & "Bo"<\/b>,/);
    assert.match(text.body, /Confirm them here: http/);
    const json = await t.api('GET', '/v1/admin/mail/preview/event-reminder?format=json', { token: t.adminToken });
    assert.equal(json.body.subject, 'Reminder: Hot show starts in 24 hours');
    assert.equal(
      (await t.api('GET', '/v1/admin/mail/preview/no-such-template', { token: t.adminToken })).body.code,
      'NOT_FOUND',
    );
    const [u] = await t.registerUsers(1, 'preview');
    assert.equal((await t.api('GET', '/v1/admin/mail/preview/waitlist-offer', { token: u.token })).status, 403);
  });
});
