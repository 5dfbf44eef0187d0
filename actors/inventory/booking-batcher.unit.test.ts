// Unit tests with a fake batch runner: what the batcher promises on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ok, refuse, type Booking, type Outcome } from '../../protocol/index.js';
import { VersionConflict } from '../../platform/event-row.js';
import { FencedError } from '../../platform/lease-deadlines.js';
import type { BookRequest } from './book.js';
import { BookingBatcher, runSafely, type Gate } from './booking-batcher.js';

const log = pino({ level: 'silent' });
const req = (userId: string, eventId = 'e1'): BookRequest => ({ userId, eventId, quantity: 1, requestId: 'test' });
const answer = (r: BookRequest) => ok({ userId: r.userId } as Booking, 201);

/** A gate the test opens (null), refuses (an outcome) or breaks (an error) when it likes. */
function manualGate(): { gate: Gate; open: (refusal?: Outcome<never>) => void; fail: (err: Error) => void } {
  let open!: (refusal?: Outcome<never>) => void;
  let fail!: (err: Error) => void;
  const gate = new Promise<Outcome<never> | null>((resolve, reject) => {
    open = (refusal) => resolve(refusal ?? null);
    fail = reject;
  });
  return { gate, open, fail };
}

/** A batcher whose first batch waits until `release()`; records every batch's users. */
function heldBatcher(maxBatch = 100) {
  const batches: string[][] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  const batcher = new BookingBatcher(
    async (_e, reqs) => {
      batches.push(reqs.map((r) => r.userId));
      if (batches.length === 1) await held;
      return reqs.map(answer);
    },
    maxBatch,
    log,
  );
  return { batcher, batches, release };
}

const codes = (outcomes: Outcome<Booking>[]) => outcomes.map((o) => (o.ok ? o.value.userId : o.code));

test('when requests for one event arrive while a batch runs, then they share the next batch and each gets its own answer', async () => {
  const { batcher, batches, release } = heldBatcher();
  const first = batcher.submit(req('a'));
  const rest = ['b', 'c', 'd'].map((u) => batcher.submit(req(u)));
  release();
  const outcomes = await Promise.all([first, ...rest]);
  assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(codes(outcomes), ['a', 'b', 'c', 'd']);
});

test('when a batch is larger than the maximum, then it is split in arrival order', async () => {
  const { batcher, batches, release } = heldBatcher(3);
  const all = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((u) => batcher.submit(req(u)));
  release();
  await Promise.all(all);
  assert.deepEqual(batches, [['a'], ['b', 'c', 'd'], ['e', 'f', 'g'], ['h']]);
});

test('when a request’s lock is taken while a batch runs, then it waits with the queue and joins the next batch', async () => {
  const { batcher, batches, release } = heldBatcher();
  const lock = manualGate();
  const first = batcher.submit(req('a'));
  const gated = batcher.submit(req('b'), lock.gate);
  const other = batcher.submit(req('c'));
  lock.open();
  await new Promise((r) => setImmediate(r));
  release();
  assert.deepEqual(codes(await Promise.all([first, gated, other])), ['a', 'b', 'c']);
  assert.deepEqual(batches, [['a'], ['b', 'c']]);
});

test('when a request’s gate is still closed as a batch forms, then the batch goes without it and it follows once open', async () => {
  const { batcher, batches, release } = heldBatcher();
  const lock = manualGate();
  const first = batcher.submit(req('a'));
  const gated = batcher.submit(req('b'), lock.gate);
  const other = batcher.submit(req('c'));
  release();
  await other;
  assert.deepEqual(batches, [['a'], ['c']], 'b is not decided before its lock is held');
  lock.open();
  assert.deepEqual(codes(await Promise.all([first, gated])), ['a', 'b']);
  assert.deepEqual(batches, [['a'], ['c'], ['b']]);
});

test('when a gate refuses or breaks, then its request is answered so and never reaches a batch, and the queue goes on', async () => {
  const { batcher, batches, release } = heldBatcher();
  const busy = manualGate();
  const broken = manualGate();
  const only = manualGate();
  const refused = batcher.submit(req('a'), busy.gate);
  const failed = batcher.submit(req('b'), broken.gate);
  const booked = batcher.submit(req('c'), only.gate);
  busy.open(refuse('BOOKING_IN_PROGRESS', 'another booking of yours is in progress'));
  broken.fail(new Error('redis down'));
  only.open();
  release();
  assert.deepEqual(codes(await Promise.all([refused, failed, booked])), ['BOOKING_IN_PROGRESS', 'UNAVAILABLE', 'c']);
  assert.deepEqual(batches, [['c']]);
});

test('when events differ, then their batches run side by side', async () => {
  const running = new Set<string>();
  let overlap = false;
  const batcher = new BookingBatcher(
    async (eventId, reqs) => {
      running.add(eventId);
      if (running.size > 1) overlap = true;
      await new Promise((r) => setTimeout(r, 10));
      running.delete(eventId);
      return reqs.map(answer);
    },
    10,
    log,
  );
  await Promise.all([batcher.submit(req('a', 'e1')), batcher.submit(req('b', 'e2'))]);
  assert.ok(overlap);
});

test('when the version check fails, then the batch runs again', async () => {
  let calls = 0;
  const outcomes = await runSafely(
    async (_e, reqs) => {
      if (++calls === 1) throw new VersionConflict('e1');
      return reqs.map(answer);
    },
    'e1',
    [req('a')],
    log,
  );
  assert.equal(calls, 2);
  assert.equal(outcomes[0]?.ok, true);
});

test('when one request breaks its batch, then the others are answered on their own and only it fails, retryably', async () => {
  const outcomes = await runSafely(
    async (_e, reqs) => {
      if (reqs.some((r) => r.userId === 'poison')) throw new Error('constraint violated');
      return reqs.map(answer);
    },
    'e1',
    [req('a'), req('poison'), req('b')],
    log,
  );
  const codes = outcomes.map((o: Outcome<Booking>) => (o.ok ? 'ok' : o.code));
  assert.deepEqual(codes, ['ok', 'UNAVAILABLE', 'ok']);
});

test('when the shard lease runs out under a batch, then every request is answered UNAVAILABLE without a retry alone', async () => {
  let runs = 0;
  const outcomes = await runSafely(
    async () => {
      runs += 1;
      throw new FencedError(3);
    },
    'e1',
    [req('a'), req('b'), req('c')],
    log,
  );
  assert.equal(runs, 1, 'no request is tried again on a thread that may not commit');
  assert.deepEqual(
    outcomes.map((o) => (o.ok ? 'ok' : o.code)),
    ['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE'],
  );
});
