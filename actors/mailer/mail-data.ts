// What a mail is rendered from. The mailer snapshots it when it plans the
// mail (so the mail tells the state at the time of the domain event) and
// stores it with the delivery; the sender renders it, on every attempt, with
// the template files of the day. Dates and money are formatted here, once,
// for the templates and for the change list of event-changed alike.
export interface MailRecipient {
  name: string;
  email: string;
}

export interface MailEvent {
  id: string;
  name: string;
  venue: string;
  startsAt: string;
  endsAt: string | null;
}

export interface MailData {
  user: MailRecipient;
  event: MailEvent;
  [field: string]: unknown;
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});

/** "Tue, 1 Jun 2027, 20:00 UTC": mails go to people in many zones, and UTC is what the API speaks. */
export function formatWhen(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${dateTime.format(at)} UTC`;
}

/** Minor units as an amount with its currency: 5000 EUR → "€50.00". */
export function formatMoney(minor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}
