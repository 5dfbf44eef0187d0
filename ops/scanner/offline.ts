// What an offline scanner knows and decides: the published keys, the
// revocations of its event, and its own scans not yet uploaded. A code is
// admitted when its signature verifies with a published key, it is for the
// scanner's event, it is not revoked and this scanner has not admitted it
// before. Admitted scans queue for upload with a nonce, so an upload that is
// retried never checks a ticket in twice; the server decides between gates
// (the earliest scan wins).
import { randomUUID, type KeyObject } from 'node:crypto';
import {
  publicKeyFromRaw,
  ticketIdOf,
  verifyTicketCode,
  type KeyList,
  type RevokedList,
  type UploadedScan,
} from '../../protocol/index.js';

export interface ScannerState {
  url: string;
  eventId: string;
  gate: string;
  keys: KeyList['keys'];
  /** ticket id → revoked at */
  revoked: Record<string, string>;
  /** `until` of the last revocation download: the next `since`. */
  revokedUntil: string | null;
  /** ticket id → when this scanner admitted it */
  admitted: Record<string, string>;
  pending: UploadedScan[];
}

export type OfflineResult = 'ok' | 'INVALID_TICKET' | 'WRONG_EVENT' | 'TICKET_REVOKED' | 'ALREADY_CHECKED_IN';

export const freshState = (url: string, eventId: string, gate: string): ScannerState => ({
  url,
  eventId,
  gate,
  keys: [],
  revoked: {},
  revokedUntil: null,
  admitted: {},
  pending: [],
});

export function applyKeys(state: ScannerState, list: KeyList): void {
  state.keys = list.keys;
}

export function applyRevocations(state: ScannerState, list: RevokedList): void {
  for (const item of list.items) state.revoked[item.ticketId] = item.revokedAt;
  state.revokedUntil = list.until;
}

export class OfflineVerifier {
  private readonly keys: Map<string, KeyObject>;

  constructor(private readonly state: ScannerState) {
    this.keys = new Map(state.keys.map((k) => [k.kid, publicKeyFromRaw(k.publicKey)]));
  }

  /** Decides one scan offline; an admitted one is queued for upload. */
  scan(code: string, at = new Date()): { result: OfflineResult; ticketId: string | null } {
    const claims = verifyTicketCode(code, (kid) => this.keys.get(kid));
    if (!claims) return { result: 'INVALID_TICKET', ticketId: null };
    const ticketId = ticketIdOf(claims.bookingId, claims.seq);
    if (claims.eventId !== this.state.eventId.toLowerCase()) return { result: 'WRONG_EVENT', ticketId };
    if (this.state.revoked[ticketId]) return { result: 'TICKET_REVOKED', ticketId };
    if (this.state.admitted[ticketId]) return { result: 'ALREADY_CHECKED_IN', ticketId };
    const scannedAt = at.toISOString();
    this.state.admitted[ticketId] = scannedAt;
    this.state.pending.push({ code, scannedAt, gate: this.state.gate, nonce: randomUUID() });
    return { result: 'ok', ticketId };
  }
}
