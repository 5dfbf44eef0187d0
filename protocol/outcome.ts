// How a reply crosses the broker: either a value with its HTTP status, or a
// problem code from the catalogue. Refusals are values, never exceptions.
import type { ErrorCode } from './errors.js';

export type Outcome<T> =
  | { ok: true; status: number; value: T }
  /** `retryAfter` (seconds): when an actor that refuses for load knows how long its queue takes; the edge sends it as `retry-after`. */
  | { ok: false; code: ErrorCode; detail: string; retryAfter?: number };

export const ok = <T>(value: T, status = 200): Outcome<T> => ({ ok: true, status, value });

export const refuse = (code: ErrorCode, detail: string, retryAfter?: number): Outcome<never> =>
  retryAfter === undefined ? { ok: false, code, detail } : { ok: false, code, detail, retryAfter };
