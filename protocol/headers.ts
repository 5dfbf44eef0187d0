// Context that travels with every broker message. The payload carries the
// domain request; who asked and under which key travels beside it.
export const Headers = {
  requestId: 'Evently-Request-Id',
  userId: 'Evently-User-Id',
  userRole: 'Evently-User-Role',
  idempotencyKey: 'Idempotency-Key',
  /** W3C trace context of the edge's span, so an actor's log lines join the caller's trace. */
  traceparent: 'traceparent',
  /** The edge's HMAC over who asks (user, role, request id, expiry): see identity-signature.ts. */
  identitySignature: 'Evently-Identity-Signature',
} as const;

/** `staff` checks tickets in and sees check-in figures, nothing else an admin may. */
export const ROLES = ['user', 'staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

export interface CallContext {
  requestId: string;
  userId?: string;
  role?: Role;
  idempotencyKey?: string;
  traceparent?: string;
}
