// Where mails leave Evently: SendGrid's API when SENDGRID_API_KEY is set,
// SMTP through nodemailer when SMTP_URL is (on the embedded default, the
// local mail sink). Tried in that order for every mail: SMTP is the fallback
// when SendGrid fails, and the only provider when SendGrid is not configured.
// Every mail carries a Message-ID made from its delivery id, so a mail that
// is sent again after a crash is recognisably the same one.
import nodemailer from 'nodemailer';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';

export type ProviderName = 'sendgrid' | 'smtp';

/** An inline part the HTML shows with `cid:` (the tickets' QR codes). */
export interface MailAttachment {
  filename: string;
  contentType: string;
  cid: string;
  content: Buffer;
}

export interface OutgoingMail {
  /** The delivery id: the Message-ID's local part and an X-Evently-Delivery header. */
  id: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  attachments?: MailAttachment[];
}

export interface MailProvider {
  readonly name: ProviderName;
  /** Resolves with the provider's message id. */
  send(mail: OutgoingMail): Promise<string>;
  close(): void;
}

export interface Sent {
  provider: ProviderName;
  messageId: string;
}

// Well under the sender's claim on a mail, so a hung provider cannot make another thread send it too.
const TIMEOUT_MS = 15_000;

const domainOf = (from: string): string => /@([^>\s]+)/.exec(from)?.[1] ?? 'evently.local';

async function sendgridProvider(apiKey: string, from: string): Promise<MailProvider> {
  // Loaded only when configured: it costs a thread ~80 ms to load, and mailer threads restart whenever shards move.
  // The module is one client per thread; this thread's mailer is its only user.
  const { default: sendgrid } = await import('@sendgrid/mail');
  sendgrid.setApiKey(apiKey);
  sendgrid.setTimeout(TIMEOUT_MS);
  return {
    name: 'sendgrid',
    async send(mail) {
      const [response] = await sendgrid.send({
        to: mail.to,
        from,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        headers: { 'X-Evently-Delivery': mail.id },
        customArgs: { delivery: mail.id },
        attachments: mail.attachments?.map((a) => ({
          content: a.content.toString('base64'),
          filename: a.filename,
          type: a.contentType,
          disposition: 'inline',
          content_id: a.cid,
        })),
      });
      return String(response.headers?.['x-message-id'] ?? mail.id);
    },
    close() {},
  };
}

function smtpProvider(url: string, from: string): MailProvider {
  // Pooled: a connection carries many mails, rather than a TCP and SMTP handshake each (the URL may say otherwise).
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 4,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  const domain = domainOf(from);
  return {
    name: 'smtp',
    async send(mail) {
      const info = await transport.sendMail({
        to: mail.to,
        from,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        messageId: `<${mail.id}@${domain}>`,
        headers: { 'X-Evently-Delivery': mail.id },
        attachments: mail.attachments?.map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          cid: a.cid,
          content: a.content,
          contentDisposition: 'inline' as const,
        })),
      });
      return info.messageId;
    },
    close: () => transport.close(),
  };
}

export class Providers {
  constructor(
    private readonly chain: readonly MailProvider[],
    private readonly log: Logger,
  ) {}

  get names(): ProviderName[] {
    return this.chain.map((p) => p.name);
  }

  /** The first provider that takes the mail; throws with every provider's reason if none does. */
  async send(mail: OutgoingMail): Promise<Sent> {
    if (this.chain.length === 0) throw new Error('no mail provider is configured (set SENDGRID_API_KEY or SMTP_URL)');
    const reasons: string[] = [];
    for (const provider of this.chain) {
      try {
        return { provider: provider.name, messageId: await provider.send(mail) };
      } catch (err) {
        reasons.push(`${provider.name}: ${(err as Error).message}`);
        if (provider !== this.chain[this.chain.length - 1]) {
          this.log.warn({ err, provider: provider.name, delivery: mail.id }, 'mail provider failed; trying the next');
        }
      }
    }
    throw new Error(reasons.join('; '));
  }

  close(): void {
    for (const p of this.chain) p.close();
  }
}

export async function providersFrom(config: Config, log: Logger): Promise<Providers> {
  const chain: MailProvider[] = [];
  if (config.sendgridApiKey) chain.push(await sendgridProvider(config.sendgridApiKey, config.mailFrom));
  if (config.smtpUrl) chain.push(smtpProvider(config.smtpUrl, config.mailFrom));
  if (chain.length === 0)
    log.warn(
      'no mail provider is configured: mails wait, then go to the dead-letter store (set SENDGRID_API_KEY or SMTP_URL)',
    );
  return new Providers(chain, log);
}
