// The HTML of the pages mails link to: small, server-rendered, no script
// (a form posts the one-click confirmation), readable on a phone at a door.
// Every value is escaped; the QR codes are inline SVG from our own library.
import type { Event, Hold, Ticket } from '../../protocol/index.js';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const when = (iso: string): string => {
  const at = new Date(iso);
  return `${at.toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })} UTC`;
};

const STYLE = `body{margin:0;background:#f4f4f6;font:16px/1.5 Helvetica,Arial,sans-serif;color:#1d1d27}
main{max-width:560px;margin:0 auto;padding:24px}section{background:#fff;border-radius:8px;padding:24px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 8px}.muted{color:#6b6b80;font-size:14px}.qr svg{width:100%;max-width:320px;display:block;margin:8px auto}
.status{font-weight:bold}.valid{color:#1a7f37}.revoked{color:#b42318}.checked_in{color:#6b6b80}
button{background:#5a4fcf;color:#fff;border:0;border-radius:6px;padding:12px 20px;font-size:16px;cursor:pointer}`;

export const PAGE_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    styleSrc: ["'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>${escape(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

const eventBlock = (event: Event): string =>
  `<h1>${escape(event.name)}</h1><p class="muted">${escape(event.venue)} · ${escape(when(event.startsAt))}</p>`;

const STATUS = { valid: 'Valid', revoked: 'Void (cancelled)', checked_in: 'Checked in' } as const;

export function ticketsPage(event: Event, tickets: readonly { ticket: Ticket; svg: string }[]): string {
  const items = tickets
    .map(
      ({ ticket, svg }) => `<section class="ticket" data-ticket="${escape(ticket.id)}">
<p>Ticket ${ticket.seq + 1} of ${tickets.length} · <span class="status ${ticket.status}">${STATUS[ticket.status]}</span>
${ticket.checkedInAt ? ` <span class="muted">${escape(when(ticket.checkedInAt))}, ${escape(ticket.gate ?? '')}</span>` : ''}</p>
<div class="qr">${svg}</div><p class="muted">Show this code at the door.</p></section>`,
    )
    .join('\n');
  return page(`Tickets: ${event.name}`, `<section>${eventBlock(event)}</section>\n${items}`);
}

export function holdPage(event: Event, hold: Hold, confirmAction: string): string {
  const seats = `${hold.quantity} ${hold.quantity === 1 ? 'seat' : 'seats'}`;
  const open = hold.status === 'active' && Date.parse(hold.expiresAt) > Date.now();
  const action = open
    ? `<p><strong class="held">${seats}</strong> are held for you until <strong class="until">${escape(when(hold.expiresAt))}</strong>.</p>
<form method="post" action="${escape(confirmAction)}"><button type="submit">Confirm ${seats}</button></form>`
    : `<p class="status revoked">This hold is ${hold.status === 'confirmed' ? 'already confirmed' : 'no longer open'}: its seats ${hold.status === 'confirmed' ? 'are booked' : 'went to the next in line'}.</p>`;
  return page(`Seats held: ${event.name}`, `<section>${eventBlock(event)}${action}</section>`);
}

export function messagePage(title: string, message: string, link?: { href: string; text: string }): string {
  return page(
    title,
    `<section><h1>${escape(title)}</h1><p>${escape(message)}</p>${link ? `<p><a href="${escape(link.href)}">${escape(link.text)}</a></p>` : ''}</section>`,
  );
}
