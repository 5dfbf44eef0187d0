// Sends what is due. Every mailer thread runs one: it wakes when its own
// consumer planned mail and once a second besides (for retries, and for mail
// another thread planned), claims a batch of due rows, renders and sends each
// and records the outcome. A failure is retried after base × 2^(attempt-1);
// after the last attempt the mail is dead-lettered for operators. A sender
// that dies after sending but before recording sends that mail again when
// its claim runs out: at least once, with the same Message-ID.
// During a sale (EVENTLY_MAIL_SALE_RATE bookings a second or more in this
// process, within the last 10 s), mail waits until it is EVENTLY_MAIL_SALE_HOLD_MS old: rendering
// QR codes, writing MIME, the SMTP round trips, and the Postgres and garbage
// collection work they bring took a third of a core in the sale's peak and
// its slowest bookings with it. A flash sale is over within the hold, so its
// mail goes out right after; a longer one still gets its mail, that much late.
import type { Pool } from 'pg';
import type { Logger } from '../../platform/logger.js';
import { claimDue, markFailed, markSent, type ClaimedMail, type SentMail } from './deliveries.js';
import { mailFailed, mailSent } from './metrics.js';
import type { Providers } from './providers.js';
import type { Renderer } from './render.js';
import type { TicketParts } from './ticket-parts.js';
import { isTemplateName } from './templates.js';

export interface RetryPolicy {
  maxAttempts: number;
  retryBaseMs: number;
}

type Delivered = SentMail & { template: string };

const POLL_MS = 1_000;
const BATCH = 50;
/** How long a claimed mail is this sender's; well above the providers' timeouts. */
const CLAIM_MS = 120_000;

export class Sender {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly providers: Providers,
    private readonly renderer: Renderer,
    private readonly policy: RetryPolicy,
    private readonly log: Logger,
    /** QR codes and signed links, added when sending. */
    private readonly parts?: TicketParts,
    /** Waits, before each round, while the booking path is busy. */
    private readonly yieldToForeground: () => Promise<void> = () => Promise.resolve(),
    /** How old a due mail must be to go now: during a sale, the hold; else 0. */
    private readonly holdMs: () => number = () => 0,
  ) {
    this.timer = setInterval(() => this.kick(), POLL_MS);
  }

  /** Looks for due mail now (or right after the round in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.log.warn({ err }, 'mail round failed; the next one retries'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      await this.yieldToForeground();
      const due = await claimDue(this.pool, BATCH, CLAIM_MS, this.holdMs());
      if (due.length === 0) return;
      const sent = (await Promise.all(due.map((mail) => this.deliver(mail)))).filter(
        (s): s is Delivered => s !== undefined,
      );
      // Should this write fail, the claims run out and the mails go again, with the same Message-IDs.
      await markSent(this.pool, sent);
      for (const s of sent) mailSent.inc({ template: s.template, provider: s.provider });
    }
  }

  /** Sends one mail; a failure is recorded here, a success returned for the round's one write. */
  private async deliver(mail: ClaimedMail): Promise<Delivered | undefined> {
    try {
      if (!isTemplateName(mail.template)) throw new Error(`no template ${mail.template}`);
      const { data, attachments } = this.parts
        ? await this.parts.add(mail.template, mail.data)
        : { data: mail.data, attachments: [] };
      const sent = await this.providers.send({
        id: mail.id,
        to: mail.recipient,
        ...this.renderer.render(mail.template, data),
        attachments,
      });
      return { id: mail.id, template: mail.template, ...sent };
    } catch (err) {
      const log = this.log.child({ delivery: mail.id, template: mail.template, attempt: mail.attempts });
      const dead = mail.attempts >= this.policy.maxAttempts;
      const retryInMs = dead ? null : this.policy.retryBaseMs * 2 ** (mail.attempts - 1);
      await markFailed(this.pool, mail.id, (err as Error).message, retryInMs);
      mailFailed.inc({ template: mail.template, outcome: dead ? 'dead' : 'retry' });
      if (dead) log.error({ err }, 'mail failed for the last time; parked in the dead-letter store');
      else log.warn({ err, retryInMs }, 'mail failed; will retry');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
