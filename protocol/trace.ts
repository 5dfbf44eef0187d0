// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent`
// header is `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`.
// The edge continues a caller's trace (or starts one) with a span of its own
// and hands that on in the broker headers; actors log the trace id.
import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

/** The caller's trace context, or undefined when the header is absent or malformed (all-zero ids are invalid). */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  const [, traceId, spanId, flags] = (header ? TRACEPARENT.exec(header.trim()) : null) ?? [];
  if (!traceId || !spanId || !flags || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

// Ids are cut from a pool of random bytes refilled a few KiB at a time: one
// randomBytes call per id cost the edge a synchronous crypto job per request.
const POOL = Buffer.alloc(4096);
let used = POOL.length;

function randomHex(bytes: number): string {
  if (used + bytes > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  used += bytes;
  return POOL.toString('hex', used - bytes, used);
}

/** A new span under the caller's trace, or the root span of a new trace. Sampling flags pass through. */
export function childSpan(parent: TraceContext | undefined): TraceContext {
  return {
    traceId: parent?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    flags: parent?.flags ?? '01',
  };
}

export const formatTraceparent = (t: TraceContext): string => `00-${t.traceId}-${t.spanId}-${t.flags}`;
