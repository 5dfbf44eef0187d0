// Who asks, in a form an actor can trust. The broker carries the acting
// user's id and role in headers, and anyone who can publish on an actor's
// subject could write them; so the edge, having checked the user's token,
// signs (user id, role, request id, expiry) with HMAC-SHA256 under a key only
// edges and actors hold (EVENTLY_IDENTITY_KEY), and an actor refuses an
// identity without a valid, unexpired signature. One HMAC each side, no
// round trip: a few microseconds per request. During a key rotation the
// previous key still verifies (EVENTLY_IDENTITY_PREVIOUS_KEY), never signs.
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';
/** Long enough for any clock skew between an edge and an actor host; short enough that a captured header soon dies. */
export const IDENTITY_SIGNATURE_TTL_S = 120;

export interface SignedIdentity {
  userId: string;
  role: string;
  requestId: string;
}

const mac = (key: string, who: SignedIdentity, exp: number): Buffer =>
  createHmac('sha256', key).update(`${VERSION}\n${who.userId}\n${who.role}\n${who.requestId}\n${exp}`).digest();

/** The header value: `v1.<expiry, unix seconds>.<base64url HMAC>`. */
export function signIdentity(key: string, who: SignedIdentity, nowMs = Date.now()): string {
  const exp = Math.floor(nowMs / 1000) + IDENTITY_SIGNATURE_TTL_S;
  return `${VERSION}.${exp}.${mac(key, who, exp).toString('base64url')}`;
}

/** Why the signature does not vouch for `who`, or undefined when it does. */
export function identityRefusal(
  keys: readonly string[],
  who: SignedIdentity,
  header: string | undefined,
  nowMs = Date.now(),
): string | undefined {
  if (!header) return 'the identity is not signed';
  const [version, expText, sig] = header.split('.');
  const exp = Number(expText);
  if (version !== VERSION || !sig || !Number.isInteger(exp)) return 'the identity signature is malformed';
  if (exp * 1000 < nowMs) return 'the identity signature has expired';
  const given = Buffer.from(sig, 'base64url');
  const good = keys.some((key) => {
    const expected = mac(key, who, exp);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return good ? undefined : 'the identity signature is wrong';
}
