// How a reply crosses the broker: either a value with its HTTP status, or a
// problem code from the catalogue. Refusals are values, never exceptions.
import type { ErrorCode } from './errors.js';

export type Outcome<T> =
  | { ok: true; status: number; value: T }
  | { ok: false; code: ErrorCode; detail: string };

export const ok = <T>(value: T, status = 200): Outcome<T> => ({ ok: true, status, value });

export const refuse = (code: ErrorCode, detail: string): Outcome<never> => ({ ok: false, code, detail });
