// The pages links in mails open: a booking's tickets with their QR codes and
// a waitlist hold with a one-click confirmation. A link is its own credential
// (signed for that booking or hold with EVENTLY_TICKET_SECRET; the actors
// check the signature), so nobody needs a password at the door. Confirming a
// hold acts for the hold's owner; a hold confirms once, which makes the link
// one-time in effect.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { checkin, inventory, LINK_PATHS, LinkSigner, type CallContext } from '../../protocol/index.js';
import { qrSvg } from '../../platform/tickets/qr.js';
import { publicUrlOf, type Config } from '../../platform/config.js';
import type { Broker } from '../../platform/broker.js';
import { holdPage, messagePage, PAGE_CSP, ticketsPage } from './render.js';

const LinkParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  signature: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
});
interface Params {
  id: string;
  signature: string;
}

export interface PageDeps {
  broker: Broker;
  config: Config;
}

const html = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'private, no-store')
    .header('referrer-policy', 'no-referrer')
    .send(body);

const notFound = (reply: FastifyReply) =>
  html(reply, 404, messagePage('Link not valid', 'This link is not valid. Use the link in your mail as it was sent.'));

export const pageRoutes: FastifyPluginAsync<PageDeps> = async (app, { broker, config }) => {
  const links = new LinkSigner(config.ticketSecret ?? '');
  const base = publicUrlOf(config);
  const ctxOf = (requestId: string): CallContext => ({ requestId });
  // A browser's form post: urlencoded with nothing in it that matters. Scoped to these pages.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, _body, done) =>
    done(null, {}),
  );
  const schema = { hide: true, params: LinkParams };

  app.get<{ Params: Params }>(
    `${LINK_PATHS.tickets}/:id/:signature`,
    { schema, config: { csp: PAGE_CSP } },
    async (request, reply) => {
      const ctx = ctxOf(request.id);
      const found = await broker.call(
        checkin.tickets,
        { bookingId: request.params.id, link: request.params.signature },
        ctx,
      );
      if (!found.ok)
        return found.code === 'NOT_FOUND'
          ? notFound(reply)
          : html(reply, 503, messagePage('Try again', 'Your tickets could not be shown just now.'));
      const [first] = found.value.items;
      if (!first) return notFound(reply);
      const event = await broker.call(inventory.getEvent, { eventId: first.eventId }, ctx);
      if (!event.ok) return html(reply, 503, messagePage('Try again', 'Your tickets could not be shown just now.'));
      const tickets = await Promise.all(
        found.value.items.map(async (ticket) => ({ ticket, svg: await qrSvg(ticket.code) })),
      );
      return html(reply, 200, ticketsPage(event.value, tickets));
    },
  );

  const readHold = async (params: Params, requestId: string) => {
    const hold = await broker.call(inventory.getHold, { holdId: params.id, link: params.signature }, ctxOf(requestId));
    if (!hold.ok) return { hold };
    return { hold, event: await broker.call(inventory.getEvent, { eventId: hold.value.eventId }, ctxOf(requestId)) };
  };

  app.get<{ Params: Params }>(
    `${LINK_PATHS.hold}/:id/:signature`,
    { schema, config: { csp: PAGE_CSP } },
    async (request, reply) => {
      const { hold, event } = await readHold(request.params, request.id);
      if (!hold.ok)
        return hold.code === 'NOT_FOUND'
          ? notFound(reply)
          : html(reply, 503, messagePage('Try again', 'The hold could not be shown just now.'));
      if (!event?.ok) return html(reply, 503, messagePage('Try again', 'The hold could not be shown just now.'));
      return html(reply, 200, holdPage(event.value, hold.value, `${request.url.split('?')[0]}/confirm`));
    },
  );

  app.post<{ Params: Params }>(
    `${LINK_PATHS.hold}/:id/:signature/confirm`,
    { schema, config: { audit: 'hold.confirm.page', csp: PAGE_CSP } },
    async (request, reply) => {
      const { hold } = await readHold(request.params, request.id);
      if (!hold.ok)
        return hold.code === 'NOT_FOUND'
          ? notFound(reply)
          : html(reply, 503, messagePage('Try again', 'Please try again in a moment.'));
      // The link stood for the owner: confirm as them, as if they had signed in.
      const booked = await broker.call(
        inventory.confirmHold,
        { holdId: hold.value.id },
        { requestId: request.id, userId: hold.value.userId, role: 'user' },
      );
      if (!booked.ok) {
        const why =
          booked.code === 'HOLD_EXPIRED'
            ? 'The hold expired; its seats went to the next person in line.'
            : booked.code === 'HOLD_NOT_ACTIVE'
              ? 'This hold was already confirmed or released.'
              : 'The seats could not be confirmed just now; try again.';
        return html(reply, booked.code === 'HOLD_EXPIRED' ? 410 : 409, messagePage('Not confirmed', why));
      }
      const tickets = links.url(base, 'tickets', booked.value.id);
      return html(
        reply,
        201,
        messagePage(
          'Your seats are booked',
          `Booking ${booked.value.id}: ${booked.value.quantity} ${booked.value.quantity === 1 ? 'ticket' : 'tickets'}. A mail with your tickets is on its way.`,
          { href: tickets, text: 'Show my tickets' },
        ),
      );
    },
  );
};
