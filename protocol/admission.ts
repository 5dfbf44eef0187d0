// The admission token: the waiting-room actor signs it, the edge checks it
// on the booking path with no broker round trip. HMAC-SHA256 over a compact
// payload binding user, event and expiry. The key comes from
// EVENTLY_ADMISSION_SECRET, or is derived from the JWT secret (HKDF) so the
// embedded default needs no second secret file; it never signs sessions.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const ADMISSION_HEADER = 'evently-admission';

export interface AdmissionClaims {
  /** user id */
  u: string;
  /** event id */
  e: string;
  /** expiry, ms since the epoch */
  x: number;
}

export function admissionKey(secret: string | undefined, jwtSecret: string | undefined): Buffer {
  if (secret) return Buffer.from(secret);
  if (!jwtSecret) throw new Error('EVENTLY_ADMISSION_SECRET or EVENTLY_JWT_SECRET must be set to sign admissions');
  return Buffer.from(hkdfSync('sha256', jwtSecret, 'evently', 'waiting-room admission v1', 32));
}

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(body).digest();

export function signAdmission(key: Buffer, claims: AdmissionClaims): string {
  const body = Buffer.from(JSON.stringify({ u: claims.u, e: claims.e, x: claims.x })).toString('base64url');
  return `v1.${body}.${mac(key, body).toString('base64url')}`;
}

/** The claims of a well-signed token, whatever its expiry; undefined for anything else. */
export function readAdmission(key: Buffer, token: string): AdmissionClaims | undefined {
  const [version, body, sig] = token.split('.');
  if (version !== 'v1' || !body || !sig || token.length > 512) return undefined;
  const given = Buffer.from(sig, 'base64url');
  const want = mac(key, body);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<AdmissionClaims>;
    if (typeof claims.u !== 'string' || typeof claims.e !== 'string' || typeof claims.x !== 'number') return undefined;
    return { u: claims.u, e: claims.e, x: claims.x };
  } catch {
    return undefined;
  }
}

/** Why a token does not admit this user to this event now, or undefined when it does. */
export function admissionProblem(
  key: Buffer,
  token: string | undefined,
  userId: string,
  eventId: string,
  now = Date.now(),
): string | undefined {
  if (!token) return 'this event has a waiting room: send the Evently-Admission header your queue ticket gave you';
  const claims = readAdmission(key, token);
  if (!claims) return 'Evently-Admission is not a valid admission token';
  if (claims.u !== userId) return 'Evently-Admission was issued to another user';
  if (claims.e.toLowerCase() !== eventId.toLowerCase()) return 'Evently-Admission was issued for another event';
  if (claims.x <= now) return 'Evently-Admission has expired; join the waiting room again';
  return undefined;
}
