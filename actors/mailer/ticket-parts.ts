// What a mail gets at send time beyond its stored data: the booking
// confirmation's QR codes (inline PNG attachments referenced by cid: from
// the HTML, which mail clients show without loading anything remote) and
// the signed link to the ticket page; the waitlist offer's signed link to
// the hold page. Done when sending, not when planning, so the domain-event
// reaction stays as it was, a mail planned before a key rotation carries
// codes of the current key, and the links follow EVENTLY_PUBLIC_URL.
import type { Pool } from 'pg';
import { LinkSigner } from '../../protocol/index.js';
import { TicketKeys } from '../../platform/tickets/keys.js';
import { qrPng } from '../../platform/tickets/qr.js';
import { codesFor } from '../../platform/tickets/tickets.js';
import type { MailData } from './mail-data.js';
import type { MailAttachment } from './providers.js';

export interface MailParts {
  data: MailData;
  attachments: MailAttachment[];
}

interface ConfirmedData {
  booking: { id: string; quantity: number };
}
interface OfferData {
  hold: { id: string };
}

export class TicketParts {
  private readonly keys: TicketKeys;
  private readonly links: LinkSigner;

  constructor(
    pool: Pool,
    secret: string,
    private readonly publicUrl: string,
  ) {
    this.keys = new TicketKeys(pool, secret);
    this.links = new LinkSigner(secret);
  }

  async add(template: string, data: MailData): Promise<MailParts> {
    if (template === 'booking-confirmed') {
      const { booking } = data as MailData & ConfirmedData;
      const codes = await codesFor(this.keys, data.event.id, booking.id, booking.quantity);
      const cidOf = (seq: number) => `ticket-${seq + 1}.${booking.id}@evently`;
      const attachments = await Promise.all(
        codes.map(async ({ seq, code }) => ({
          filename: `ticket-${seq + 1}.png`,
          contentType: 'image/png',
          cid: cidOf(seq),
          content: await qrPng(code, 5),
        })),
      );
      const tickets = codes.map(({ id, seq }) => ({ id, number: seq + 1, cid: cidOf(seq) }));
      return {
        data: { ...data, tickets, ticketsUrl: this.links.url(this.publicUrl, 'tickets', booking.id) },
        attachments,
      };
    }
    if (template === 'waitlist-offer') {
      const { hold } = data as MailData & OfferData;
      return { data: { ...data, confirmUrl: this.links.url(this.publicUrl, 'hold', hold.id) }, attachments: [] };
    }
    return { data, attachments: [] };
  }
}
