// Every mail Evently sends, as one table. A template is an entry here (its
// subject line and sample data) plus two files in templates/:
// `<name>.html.hbs` and `<name>.txt.hbs`. The sample data is what previews
// render and what the tests check each template against, so it must have
// every field the files use (rendering is strict).
import type { MailData } from './mail-data.js';

export interface TemplateEntry {
  /** Handlebars, plain text (never HTML-escaped; header-encoded by the transport). */
  readonly subject: string;
  readonly about: string;
  readonly sample: MailData;
}

const user = { name: '<b>Ann & "Bo"</b>', email: 'ann@example.com' };
const event = {
  id: '01937a4c-1f00-7000-8000-0000000000ee',
  name: 'Hot show',
  venue: 'Arena & Annex',
  startsAt: '2027-06-01T20:00:00.000Z',
  endsAt: '2027-06-01T23:00:00.000Z',
};
const booking = { id: '01937a4c-1f00-7000-8000-0000000000bb', quantity: 2, totalPrice: 5000, currency: 'EUR' };

export const templates = {
  'booking-confirmed': {
    subject: 'Your tickets for {{event.name}}',
    about:
      'A booking was confirmed (booking.confirmed), also when a waitlist hold is confirmed, or its owner asked for it again; carries the QR codes inline',
    sample: {
      user,
      event,
      booking,
      tickets: [1, 2].map((number) => ({
        id: `5f0e7c9a-2b1d-5a3e-8f4c-1d2e3f4a5b6${number}`,
        number,
        cid: `ticket-${number}.${booking.id}@evently`,
      })),
      ticketsUrl: `http://127.0.0.1:3000/pages/tickets/${booking.id}/Zm9yLXRoZS1wcmV2aWV3`,
    },
  },
  'booking-cancelled': {
    subject: 'Booking cancelled: {{event.name}}',
    about: 'The person or an admin cancelled a booking (booking.cancelled, event still on)',
    sample: { user, event, booking },
  },
  'waitlist-joined': {
    subject: 'You are on the waitlist for {{event.name}}',
    about: "The person joined a sold-out event's waitlist (waitlist.joined)",
    sample: { user, event, entry: { quantity: 2, position: 3 } },
  },
  'waitlist-offer': {
    subject: 'Seats held for you: {{event.name}}',
    about: 'Seats came back and are held for the next in line until the hold expires (hold.created)',
    sample: {
      user,
      event,
      hold: { id: '01937a4c-1f00-7000-8000-0000000000dd', quantity: 2, expiresAt: '2026-11-24T20:15:00.000Z' },
      confirmUrl: 'http://127.0.0.1:3000/pages/holds/01937a4c-1f00-7000-8000-0000000000dd/Zm9yLXRoZS1wcmV2aWV3',
    },
  },
  'event-reminder': {
    subject: 'Reminder: {{event.name}} starts {{startsIn}}',
    about: "Agenda's reminder job, 24 h and 1 h before the start, to everyone with confirmed tickets (event.reminder)",
    sample: { user, event, startsIn: 'in 24 hours', tickets: 2 },
  },
  'event-changed': {
    subject: 'Changed: {{event.name}}',
    about: 'The organiser changed the name, venue or times of an event the person has tickets for (event.updated)',
    sample: {
      user,
      event,
      changes: [
        { label: 'Venue', before: 'Arena', after: 'Arena & Annex' },
        { label: 'Starts', before: 'Tue, 1 Jun 2027, 19:00 UTC', after: 'Tue, 1 Jun 2027, 20:00 UTC' },
      ],
    },
  },
  'event-cancelled': {
    subject: 'Cancelled: {{event.name}}',
    about:
      'The organiser cancelled the event; one mail per booking it cancelled (booking.cancelled while the event is cancelled)',
    sample: { user, event, booking },
  },
} as const satisfies Record<string, TemplateEntry>;

export type TemplateName = keyof typeof templates;

export const TEMPLATE_NAMES = Object.keys(templates) as TemplateName[];

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(templates, name);
