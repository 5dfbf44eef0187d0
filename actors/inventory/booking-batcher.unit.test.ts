// Unit tests with a fake batch runner: what the batcher promises on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ok, type Booking, type Outcome } from '../../protocol/index.js';
import { VersionConflict } from '../../platform/event-row.js';
import { FencedError } from '../../platform/lease-deadlines.js';
import type { BookRequest } from './book.js';
import { BookingBatcher, runSafely } from './booking-batcher.js';

const log = pino({ level: 'silent' });
const req = (userId: string, eventId = 'e1'): BookRequest => ({ userId, eventId, quantity: 1, requestId: 'test' });
const answer = (r: BookRequest) => ok({ userId: r.userId } as Booking, 201);

test('when requests for one event arrive while a batch runs, then they share the next batch and each gets its own answer', async () => {
  const batches: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const batcher = new BookingBatcher(
    async (_e, reqs) => {
      batches.push(reqs.map((r) => r.userId));
      if (batches.length === 1) await gate;
      return reqs.map(answer);
    },
    100,
    log,
  );
  const first = batcher.submit(req('a'));
  const rest = ['b', 'c', 'd'].map((u) => batcher.submit(req(u)));
  release();
  const outcomes = await Promise.all([first, ...rest]);
  assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(
    outcomes.map((o) => (o.ok ? o.value.userId : o.code)),
    ['a', 'b', 'c', 'd'],
  );
});

test('when a batch is larger than the maximum, then it is split in arrival order', async () => {
  const sizes: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const batcher = new BookingBatcher(
    async (_e, reqs) => {
      sizes.push(reqs.length);
      if (sizes.length === 1) await gate;
      return reqs.map(answer);
    },
    3,
    log,
  );
  const all = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((u) => batcher.submit(req(u)));
  release();
  await Promise.all(all);
  assert.deepEqual(sizes, [1, 3, 3, 1]);
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
