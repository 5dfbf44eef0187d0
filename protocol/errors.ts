// One catalogue of stable problem codes. Actors return these as values
// (business refusals are outcomes, not exceptions); the edge turns them into
// application/problem+json with the status given here.
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, title: 'Request is not valid', retryable: false },
  PRICE_RANGE_INVALID: {
    status: 400,
    title: 'Price floor, ceiling and base price do not fit together',
    retryable: false,
  },
  INVALID_TICKET: { status: 400, title: 'Ticket code is not genuine or names no ticket', retryable: false },
  MALFORMED_JSON: { status: 400, title: 'Body is not valid JSON', retryable: false },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required', retryable: false },
  INVALID_CREDENTIALS: { status: 401, title: 'Email or password is wrong', retryable: false },
  FORBIDDEN: { status: 403, title: 'Not allowed', retryable: false },
  ACCOUNT_DISABLED: { status: 403, title: 'This account is disabled', retryable: false },
  NOT_ADMITTED: {
    status: 403,
    title: 'This event has a waiting room; an admission is needed to book',
    retryable: false,
  },
  NOT_FOUND: { status: 404, title: 'Not found', retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', retryable: false },
  EMAIL_TAKEN: { status: 409, title: 'Email is already registered', retryable: false },
  SOLD_OUT: { status: 409, title: 'Not enough seats left', retryable: false },
  LIMIT_EXCEEDED: { status: 409, title: 'Per-user ticket limit exceeded', retryable: false },
  EVENT_NOT_BOOKABLE: { status: 409, title: 'Event is cancelled or has started', retryable: false },
  EVENT_NOT_EDITABLE: { status: 409, title: 'Event is cancelled or completed', retryable: false },
  CAPACITY_BELOW_SOLD: { status: 409, title: 'Capacity would fall below seats sold', retryable: false },
  PRICE_IS_DYNAMIC: {
    status: 409,
    title: 'The price is set by dynamic pricing; change its policy instead',
    retryable: false,
  },
  ALREADY_CANCELLED: { status: 409, title: 'Already cancelled', retryable: false },
  BOOKING_NOT_CANCELLABLE: {
    status: 409,
    title: 'Event has started; booking can no longer be cancelled',
    retryable: false,
  },
  BOOKING_IN_PROGRESS: {
    status: 409,
    title: 'Another booking of yours for this event is in progress',
    retryable: true,
  },
  SEATS_AVAILABLE: { status: 409, title: 'Seats are on sale; book them instead of waiting', retryable: false },
  ALREADY_ON_WAITLIST: { status: 409, title: 'You are already on this waitlist', retryable: false },
  MAIL_NOT_DEAD: { status: 409, title: 'Only a dead-lettered mail can be retried', retryable: false },
  HOLD_NOT_ACTIVE: { status: 409, title: 'Hold was already confirmed or released', retryable: false },
  ALREADY_CHECKED_IN: { status: 409, title: 'Ticket was already checked in', retryable: false },
  TICKET_REVOKED: { status: 409, title: 'Ticket was revoked: its booking or event is cancelled', retryable: false },
  WRONG_EVENT: { status: 409, title: 'Ticket is for another event', retryable: false },
  ROOM_CLOSED: { status: 409, title: 'The event has no waiting room on', retryable: false },
  IDEMPOTENCY_CONFLICT: { status: 409, title: 'Idempotency key was used with a different request', retryable: false },
  REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time', retryable: true },
  HOLD_EXPIRED: { status: 410, title: 'Hold has expired; its seats went to the next in line', retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large', retryable: false },
  URI_TOO_LONG: { status: 414, title: 'Request path too long', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type', retryable: false },
  RATE_LIMITED: { status: 429, title: 'Too many requests', retryable: true },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request headers (or URL) too large', retryable: false },
  // Not retryable: a fault here is a bug that a retry meets again, so no retry-after invites one.
  INTERNAL: { status: 500, title: 'Internal error', retryable: false },
  UNAVAILABLE: { status: 503, title: 'Service unavailable', retryable: true },
  TIMEOUT: { status: 504, title: 'Upstream timed out', retryable: true },
} as const satisfies Record<string, { status: number; title: string; retryable: boolean }>;

export type ErrorCode = keyof typeof errorCatalogue;

export const PROBLEM_TYPE_BASE = 'https://evently.dev/problems/';

export function problemType(code: ErrorCode): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}
