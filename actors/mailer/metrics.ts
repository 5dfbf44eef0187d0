// The mailer's counters, on prom-client's default registry of the thread
// that sends (whatever /metrics endpoint the process serves collects them).
import { Counter } from 'prom-client';

export const mailSent = new Counter({
  name: 'evently_mail_sent_total',
  help: 'Mails a provider accepted, by template and provider (sendgrid, smtp)',
  labelNames: ['template', 'provider'] as const,
});

/** outcome: retry (another attempt is due later) or dead (parked in the dead-letter store). */
export const mailFailed = new Counter({
  name: 'evently_mail_failed_total',
  help: 'Mail attempts every provider refused, by template and outcome (retry, dead)',
  labelNames: ['template', 'outcome'] as const,
});

export const mailSkipped = new Counter({
  name: 'evently_mail_skipped_total',
  help: 'Mails not sent because the recipient has no usable address, by reason',
  labelNames: ['reason'] as const,
});
