// The provider chain against a real SMTP server (the stack's mail sink) and
// the real SendGrid client with a key SendGrid will not take (no network
// here: it fails fast; with network: 401), so the fallback path is real.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Mailbox } from '../../ops/testing/mailbox.js';
import { startMailSink, type MailSink } from '../../ops/testing/servers.js';
import { loadConfig, withOverrides } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { providersFrom } from './providers.js';

const log = createLogger('silent');
let dir: string;
let sink: MailSink;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evently-providers-'));
  sink = await startMailSink({ dir, port: 0, log: () => undefined });
});
after(async () => {
  await sink?.stop();
  await rm(dir, { recursive: true, force: true });
});

const mail = (to: string) => ({
  id: '01937a4c-1f00-7000-8000-0000000000f1',
  to,
  subject: 'Hello',
  html: '<p>Hi</p>',
  text: 'Hi',
});
const config = (over: Record<string, unknown>) =>
  withOverrides(loadConfig({}), { mailFrom: 'Evently <no-reply@evently.test>', ...over });

test('when SendGrid refuses a mail, then it goes out over SMTP with the delivery id in its Message-ID', async () => {
  const providers = await providersFrom(config({ sendgridApiKey: 'SG.not-a-real-key', smtpUrl: sink.url }), log);
  try {
    assert.deepEqual(providers.names, ['sendgrid', 'smtp']);
    const sent = await providers.send(mail('fallback@example.test'));
    assert.equal(sent.provider, 'smtp');
    const [kept] = await new Mailbox(dir).waitFor('fallback@example.test');
    assert.equal(kept.messageId, '<01937a4c-1f00-7000-8000-0000000000f1@evently.test>');
    assert.equal(kept.headers.get('x-evently-delivery'), '01937a4c-1f00-7000-8000-0000000000f1');
    assert.equal(kept.from?.value[0]?.address, 'no-reply@evently.test');
  } finally {
    providers.close();
  }
});

test("when every provider fails, then the error names each one's reason", async () => {
  await sink.pause();
  const providers = await providersFrom(config({ sendgridApiKey: 'SG.not-a-real-key', smtpUrl: sink.url }), log);
  try {
    await assert.rejects(providers.send(mail('nobody@example.test')), (err: Error) => {
      assert.match(err.message, /^sendgrid: .+; smtp: .*ECONNREFUSED/);
      return true;
    });
  } finally {
    providers.close();
    await sink.resume();
  }
});

test('when no provider is configured, then sending fails with what to set', async () => {
  const providers = await providersFrom(config({}), log);
  assert.deepEqual(providers.names, []);
  await assert.rejects(providers.send(mail('nobody@example.test')), /SENDGRID_API_KEY or SMTP_URL/);
});
