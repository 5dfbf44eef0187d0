import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childSpan, formatTraceparent, parseTraceparent } from './trace.js';

const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('when a valid traceparent arrives, then the child span keeps its trace id and flags with a new span id', () => {
  const parent = parseTraceparent(caller);
  assert.deepEqual(parent, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' });
  const child = childSpan(parent);
  assert.equal(child.traceId, parent.traceId);
  assert.notEqual(child.spanId, parent.spanId);
  assert.match(formatTraceparent(child), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
});

test('when the traceparent is missing or malformed, then a new trace starts', () => {
  for (const bad of [
    undefined,
    '',
    'garbage',
    caller.toUpperCase(),
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    `${caller}-extra`,
    "00-'; DROP TABLE x;--",
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
  const a = childSpan(undefined);
  const b = childSpan(undefined);
  assert.match(a.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(a.traceId, b.traceId);
});

test('when many spans are made, then every span id is new, also across refills of the random pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const span = childSpan(undefined);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.ok(!seen.has(span.spanId) && !seen.has(span.traceId), `repeated id at span ${i}`);
    seen.add(span.spanId).add(span.traceId);
  }
});
