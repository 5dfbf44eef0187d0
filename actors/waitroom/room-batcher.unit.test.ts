import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../platform/logger.js';
import { RoomBatcher } from './room-batcher.js';

test('when joins of one room arrive while a batch is in flight, then they go together in the next batch, a user twice joins once, and each gets an answer', async () => {
  const batches: string[][] = [];
  const batcher = new RoomBatcher<string>(
    async (eventId, userIds) => {
      batches.push([...userIds]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return new Map(userIds.map((u) => [u, `${eventId}:${u}`]));
    },
    100,
    createLogger('silent'),
  );
  const answers = await Promise.all(['a', 'b', 'c', 'b', 'd'].map((u) => batcher.submit('room', u)));
  assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(answers, ['room:a', 'room:b', 'room:c', 'room:b', 'room:d']);
  assert.equal(await batcher.submit('room', 'e'), 'room:e', 'a quiet room starts a fresh batch');
});

test('when a batch fails, then its joiners get the error and the next batch still runs', async () => {
  let calls = 0;
  const batcher = new RoomBatcher<string>(
    async (_eventId, userIds) => {
      if (calls++ === 0) throw new Error('database away');
      return new Map(userIds.map((u) => [u, u]));
    },
    100,
    createLogger('silent'),
  );
  await assert.rejects(batcher.submit('room', 'a'), /database away/);
  assert.equal(await batcher.submit('room', 'b'), 'b');
});
