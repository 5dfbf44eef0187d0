// The ticket code: what a QR code at the door carries, a frozen wire contract
// between the signer (check-in actor, mailer), every scanner and the check-in
// API. Binary, then base64url, so it stays small enough for a QR code a phone
// camera reads at arm's length (103 bytes → 138 characters):
//   version (1) | kid (4) | event id (16) | booking id (16) | seq (2, BE) | Ed25519 signature (64)
// The signature covers every byte before it. A ticket's id is derived from
// (booking id, seq) with UUIDv5, so a scanner offline computes the same id the
// API and the revocation list use, and no ticket row has to be written in the
// booking transaction. Node's own crypto signs and verifies (Ed25519 is
// deterministic: one key signs one ticket to one code, every time).
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

export const TICKET_CODE_VERSION = 1;
const HEAD = 1 + 4 + 16 + 16 + 2;
const SIGNATURE = 64;
export const TICKET_CODE_BYTES = HEAD + SIGNATURE;
/** Fixed namespace of ticket ids (changing it renames every ticket). */
export const TICKET_NAMESPACE = '6f1d7c2e-4b0a-5e8f-9c3d-1a2b3c4d5e6f';

export interface TicketClaims {
  kid: string;
  eventId: string;
  bookingId: string;
  /** 0-based position of the ticket in its booking. */
  seq: number;
}

export const ticketIdOf = (bookingId: string, seq: number): string =>
  uuidv5(`${bookingId.toLowerCase()}/${seq}`, TICKET_NAMESPACE);

const uuidBytes = (id: string): Buffer => Buffer.from(id.replaceAll('-', ''), 'hex');
const uuidText = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** Key ids are 4 random bytes, written as 6 base64url characters. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{6}$/;

function head(claims: TicketClaims): Buffer {
  if (!KID_PATTERN.test(claims.kid)) throw new Error(`bad key id ${claims.kid}`);
  if (!Number.isInteger(claims.seq) || claims.seq < 0 || claims.seq > 0xffff) throw new Error(`bad seq ${claims.seq}`);
  const out = Buffer.alloc(HEAD);
  out[0] = TICKET_CODE_VERSION;
  Buffer.from(claims.kid, 'base64url').copy(out, 1);
  uuidBytes(claims.eventId).copy(out, 5);
  uuidBytes(claims.bookingId).copy(out, 21);
  out.writeUInt16BE(claims.seq, 37);
  return out;
}

export function signTicketCode(claims: TicketClaims, privateKey: KeyObject): string {
  const message = head(claims);
  return Buffer.concat([message, sign(null, message, privateKey)]).toString('base64url');
}

/** Reads the claims without checking the signature: for routing a scan to its event's shard only. */
export function peekTicketCode(code: string): TicketClaims | undefined {
  if (typeof code !== 'string' || code.length > 200 || !/^[A-Za-z0-9_-]+$/.test(code)) return undefined;
  const raw = Buffer.from(code, 'base64url');
  if (raw.length !== TICKET_CODE_BYTES || raw[0] !== TICKET_CODE_VERSION) return undefined;
  return {
    kid: raw.subarray(1, 5).toString('base64url'),
    eventId: uuidText(raw.subarray(5, 21)),
    bookingId: uuidText(raw.subarray(21, 37)),
    seq: raw.readUInt16BE(37),
  };
}

/** The claims of a genuine code, or undefined for a forged, truncated or unknown-key one. */
export function verifyTicketCode(
  code: string,
  keyOf: (kid: string) => KeyObject | undefined,
): TicketClaims | undefined {
  const claims = peekTicketCode(code);
  const key = claims && keyOf(claims.kid);
  if (!claims || !key) return undefined;
  const raw = Buffer.from(code, 'base64url');
  return verify(null, raw.subarray(0, HEAD), key, raw.subarray(HEAD)) ? claims : undefined;
}

/** A published key (`publicKey` is the raw 32 bytes, base64url) as a Node key object. */
export const publicKeyFromRaw = (raw: string): KeyObject =>
  createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
export const rawPublicKey = (key: KeyObject): string => String(key.export({ format: 'jwk' }).x);
