// Links in mails that open a page without a password: the ticket page of a
// booking and the page of a waitlist hold. The mailer writes them, the edge
// checks them; both derive the same HMAC key from EVENTLY_TICKET_SECRET, so
// a link cannot be made for another booking or hold by editing the URL.
// A hold link is one-time in effect: a hold is confirmed at most once.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export type LinkKind = 'tickets' | 'hold';

/** Page paths on the edge, outside /v1: pages for a browser, not API routes. A link is `<path>/<id>/<signature>`. */
export const LINK_PATHS: Record<LinkKind, string> = { tickets: '/pages/tickets', hold: '/pages/holds' };

/** Purpose-bound key material from the one configured secret (HKDF-SHA256). */
export const deriveKey = (secret: string, purpose: string): Buffer =>
  Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `evently/${purpose}`, 32));

export class LinkSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = deriveKey(secret, 'links');
  }

  /** 16 bytes of HMAC are plenty for a link nobody can try online at scale. */
  signature(kind: LinkKind, id: string): string {
    return createHmac('sha256', this.key)
      .update(`${kind}:${id.toLowerCase()}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }

  check(kind: LinkKind, id: string, signature: string | undefined): boolean {
    if (!signature) return false;
    const want = Buffer.from(this.signature(kind, id));
    const got = Buffer.from(signature);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  url(publicUrl: string, kind: LinkKind, id: string): string {
    return `${publicUrl.replace(/\/+$/, '')}${LINK_PATHS[kind]}/${id}/${this.signature(kind, id)}`;
  }
}
