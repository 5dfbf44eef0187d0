import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney, formatWhen } from './mail-data.js';
import { Renderer } from './render.js';
import { templates, TEMPLATE_NAMES } from './templates.js';

const renderer = Renderer.load();

test('when every template of the table is rendered with its sample, then each has a one-line subject, an HTML part and a text part', () => {
  assert.ok(TEMPLATE_NAMES.length >= 7, 'the seven mails of the issue');
  for (const name of TEMPLATE_NAMES) {
    const mail = renderer.preview(name);
    assert.ok(mail.subject.length > 0 && !/\n/.test(mail.subject), `${name}: subject`);
    assert.match(mail.html, /^<!doctype html>/, `${name}: html document`);
    assert.match(mail.html, /Hot show/, `${name}: event in html`);
    assert.match(mail.text, /Hot show/, `${name}: event in text`);
    assert.doesNotMatch(mail.text, /<\/?(p|table|td|strong)\b/, `${name}: no markup in the text part`);
  }
});

test('when user-provided text holds markup, then the HTML part escapes it and the text part keeps it as written', () => {
  const sample = templates['booking-confirmed'].sample;
  const mail = renderer.render('booking-confirmed', {
    ...sample,
    user: { name: '<b>Ann & "Bo"</b>', email: 'ann@example.com' },
    event: { ...sample.event, name: '<script>alert(1)</script>', venue: 'Hall "A" & <i>B</i>' },
  });
  assert.match(mail.html, /Hello &lt;b&gt;Ann &amp; &quot;Bo&quot;&lt;\/b&gt;,/);
  assert.doesNotMatch(mail.html, /<b>Ann|<script>|<i>B<\/i>/);
  assert.match(mail.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(mail.html, /Hall &quot;A&quot; &amp; &lt;i&gt;B&lt;\/i&gt;/);
  assert.match(mail.text, /Hello <b>Ann & "Bo"<\/b>,/);
  assert.equal(mail.subject, 'Your tickets for <script>alert(1)</script>');
});

test('when an event name holds line breaks, then the subject stays one line', () => {
  const sample = templates['event-cancelled'].sample;
  const mail = renderer.render('event-cancelled', {
    ...sample,
    event: { ...sample.event, name: 'Show\r\nBcc: everyone@example.com' },
  });
  assert.equal(mail.subject, 'Cancelled: Show Bcc: everyone@example.com');
});

test('when data lacks a field a template uses, then rendering fails rather than sending a blank', () => {
  const { booking: _missing, ...rest } = templates['booking-confirmed'].sample;
  assert.throws(() => renderer.render('booking-confirmed', rest), /not defined/);
});

test('when the waitlist offer is rendered, then it carries the confirm link and the hold expiry in both parts', () => {
  const { sample } = templates['waitlist-offer'];
  const mail = renderer.preview('waitlist-offer');
  for (const part of [mail.text, mail.html]) {
    assert.ok(part.includes(sample.confirmUrl), 'link');
    assert.ok(part.includes(formatWhen(sample.hold.expiresAt)), 'expiry');
  }
  assert.match(mail.html, new RegExp(`href="${sample.confirmUrl.replaceAll('.', '\\.')}"`));
});

test("when money and times are formatted, then amounts use the currency's minor units and times say UTC", () => {
  assert.equal(formatMoney(5000, 'EUR'), '€50.00');
  assert.equal(formatMoney(1500, 'JPY'), 'JP¥1,500');
  assert.equal(formatWhen('2027-06-01T20:00:00.000Z'), 'Tue, 1 Jun 2027, 20:00 UTC');
});
