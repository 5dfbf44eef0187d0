// Tickets and check-in (docs/api.md "Tickets and check-in"): what the edge sends
// the check-in actor and what it answers, and the live check-in figure.
import { Type, type Static } from 'typebox';
import { Timestamp, Uuid } from './common.js';

/** A ticket code as a scanner reads it (see ticket-code.ts); checked for genuineness by the actor. */
export const TicketCode = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'Signed ticket code (base64url), the QR payload',
});
const Gate = Type.String({ minLength: 1, maxLength: 64, description: 'Which door or scanner' });
const Nonce = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'Makes a scan idempotent: the same nonce again gets the first answer',
});

export const Ticket = Type.Object({
  id: Uuid,
  bookingId: Uuid,
  eventId: Uuid,
  seq: Type.Integer({ minimum: 0 }),
  status: Type.Union([Type.Literal('valid'), Type.Literal('revoked'), Type.Literal('checked_in')]),
  code: Type.String(),
  checkedInAt: Type.Union([Timestamp, Type.Null()]),
  gate: Type.Union([Type.String(), Type.Null()]),
});
export type Ticket = Static<typeof Ticket>;

/** A booking's tickets: for its owner or an admin, or for whoever holds the signed ticket-page link. */
export const TicketsQuery = Type.Object(
  {
    bookingId: Uuid,
    link: Type.Optional(Type.String({ maxLength: 64, description: 'Signature of a ticket-page link' })),
  },
  { additionalProperties: false },
);
export type TicketsQuery = Static<typeof TicketsQuery>;

export const TicketList = Type.Object({ items: Type.Array(Ticket) });
export type TicketList = Static<typeof TicketList>;

export const PublicKey = Type.Object({
  kid: Type.String(),
  alg: Type.Literal('Ed25519'),
  publicKey: Type.String({ description: 'Raw 32-byte key, base64url' }),
});
export const KeyList = Type.Object({ keys: Type.Array(PublicKey) });
export type KeyList = Static<typeof KeyList>;

/** Body of POST /v1/checkin. */
export const CheckinBody = Type.Object(
  {
    code: TicketCode,
    eventId: Type.Optional(Uuid),
    gate: Type.Optional(Gate),
    nonce: Type.Optional(Nonce),
  },
  { additionalProperties: false },
);
export type CheckinBody = Static<typeof CheckinBody>;

/** What the actor gets: `eventId` is the event the code names (its shard); `expectedEventId` is the scanner's. */
export const Scan = Type.Object(
  {
    code: TicketCode,
    eventId: Uuid,
    expectedEventId: Type.Optional(Uuid),
    gate: Type.Optional(Gate),
    nonce: Type.Optional(Nonce),
  },
  { additionalProperties: false },
);
export type Scan = Static<typeof Scan>;

export const CheckinResult = Type.Object({ result: Type.Literal('ok'), ticket: Ticket });
export type CheckinResult = Static<typeof CheckinResult>;

export const UploadedScan = Type.Object(
  { code: TicketCode, scannedAt: Timestamp, gate: Gate, nonce: Nonce },
  { additionalProperties: false },
);
export type UploadedScan = Static<typeof UploadedScan>;
export const BatchBody = Type.Object(
  { scans: Type.Array(UploadedScan, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type BatchBody = Static<typeof BatchBody>;

/** One scan's answer in a batch: `ok`, or the problem code POST /v1/checkin would have answered. */
export const ScanResult = Type.Object({
  nonce: Type.String(),
  result: Type.Union([
    Type.Literal('ok'),
    Type.Literal('ALREADY_CHECKED_IN'),
    Type.Literal('TICKET_REVOKED'),
    Type.Literal('INVALID_TICKET'),
    Type.Literal('WRONG_EVENT'),
  ]),
  ticketId: Type.Union([Uuid, Type.Null()]),
  checkedInAt: Type.Union([Timestamp, Type.Null()]),
  gate: Type.Union([Type.String(), Type.Null()]),
});
export type ScanResult = Static<typeof ScanResult>;
export const BatchResults = Type.Object({ results: Type.Array(ScanResult) });
export type BatchResults = Static<typeof BatchResults>;
/** The scans of one event, sent to its shard. */
export const EventBatch = Type.Object(
  { eventId: Uuid, scans: Type.Array(UploadedScan, { maxItems: 500 }) },
  { additionalProperties: false },
);
export type EventBatch = Static<typeof EventBatch>;

export const RevokedQuery = Type.Object({ since: Type.Optional(Timestamp) }, { additionalProperties: false });
export const ListRevoked = Type.Object(
  { eventId: Uuid, since: Type.Optional(Timestamp) },
  { additionalProperties: false },
);
export type ListRevoked = Static<typeof ListRevoked>;
export const RevokedList = Type.Object({
  items: Type.Array(Type.Object({ ticketId: Uuid, revokedAt: Timestamp })),
  until: Timestamp,
});
export type RevokedList = Static<typeof RevokedList>;

export const CheckinFigures = Type.Object({
  eventId: Uuid,
  checkedIn: Type.Integer({ minimum: 0 }),
  sold: Type.Integer({ minimum: 0 }),
  gates: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});
export type CheckinFigures = Static<typeof CheckinFigures>;

/** Core NATS subject (not the durable stream) on which a check-in actor pushes an event's live figure. */
export const checkinFiguresSubject = (eventId: string): string => `evently.live.checkin.${eventId}`;
export const CHECKIN_FIGURES_WILDCARD = 'evently.live.checkin.*';
