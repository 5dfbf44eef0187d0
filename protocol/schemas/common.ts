import { Type, type Static } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', description: 'UUID (v7, time-ordered)' });
/**
 * Years 1900 to 9999: what every client and PostgreSQL agree on. A format
 * check alone lets year 0000 through (PostgreSQL refuses it) and nothing
 * booked here lies outside this range.
 */
export const YEARS_PATTERN = '^(?:19|[2-9][0-9])[0-9]{2}-';
export const Timestamp = Type.String({ format: 'date-time', pattern: YEARS_PATTERN, description: 'ISO-8601, UTC' });
export const Day = Type.String({
  format: 'date',
  pattern: `${YEARS_PATTERN}[0-9]{2}-[0-9]{2}$`,
  description: 'UTC day, YYYY-MM-DD',
});
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO-4217 code', examples: ['EUR'] });
export const Money = Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'Minor units (2500 = 25.00)' });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Opaque cursor from nextCursor' })),
};

export const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'Stable UPPER_SNAKE machine code' }),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});
export type Problem = Static<typeof Problem>;

export const Empty = Type.Object({});
export const Pong = Type.Object({
  kind: Type.String(),
  shard: Type.Union([Type.Integer(), Type.Null()]),
  thread: Type.Integer(),
});
