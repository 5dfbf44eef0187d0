// The audit log's records and the admin query over them (see ../audit.ts).
import { Type, type Static } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from './common.js';

export const AuditRecord = Type.Object({
  id: Uuid,
  at: Timestamp,
  userId: Type.Union([Uuid, Type.Null()], { description: 'The signed-in user who asked; null when anonymous' }),
  role: Type.Union([Type.String(), Type.Null()]),
  subject: Type.Union([Type.String(), Type.Null()], {
    description: 'Who an anonymous request was about, e.g. the account a login tried',
  }),
  ip: Type.String(),
  method: Type.String(),
  route: Type.String({ description: 'Route pattern, e.g. /v1/events/:id/bookings' }),
  action: Type.String({ description: 'Dotted action name, e.g. booking.create' }),
  targetId: Type.Union([Type.String(), Type.Null()], { description: 'The :id of the route, if any' }),
  status: Type.Integer(),
  code: Type.Union([Type.String(), Type.Null()], { description: 'Problem code of an error reply' }),
  requestId: Type.String(),
  traceId: Type.String(),
  durationMs: Type.Number(),
});
export type AuditRecord = Static<typeof AuditRecord>;

export const AuditBatch = Type.Array(AuditRecord);

export const ListAudit = Type.Object(
  {
    userId: Type.Optional(Uuid),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    code: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z_]{1,63}$' })),
    requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type ListAudit = Static<typeof ListAudit>;

export const AuditPage = Page(AuditRecord);
export type AuditPage = Static<typeof AuditPage>;
