// Opaque list cursors: base64url JSON of the last row's sort key. A cursor
// that does not decode, or decodes to values of the wrong shape (an id that is
// not a UUID, a time PostgreSQL cannot hold), is a client error, never a
// server one: each part is checked here before it can reach SQL.
import { YEARS_PATTERN } from '../protocol/index.js';

export type CursorPart = 'string' | 'number' | 'uuid' | 'timestamp';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const YEARS = new RegExp(YEARS_PATTERN);

const fits: Record<CursorPart, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  uuid: (v) => typeof v === 'string' && UUID.test(v),
  timestamp: (v) => typeof v === 'string' && YEARS.test(v) && !Number.isNaN(Date.parse(v)),
};

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly CursorPart[]): unknown[] | undefined {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(key) || key.length !== shape.length) return undefined;
    return shape.every((part, i) => fits[part](key[i])) ? key : undefined;
  } catch {
    return undefined;
  }
}
