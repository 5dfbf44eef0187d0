import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { shardOf } from './shard.js';
import { parseSubject, subjectFor, inventory, identity } from './operations.js';

test('when the shard function sees known ids, then it gives the frozen answers (changing them reshuffles ownership)', () => {
  assert.equal(shardOf('00000000-0000-0000-0000-000000000000', 16), 1);
  assert.equal(shardOf('01a20b6f-b543-7462-bdc2-0e8fa0f51c1a', 16), 14);
  assert.equal(shardOf('01A20B6F-B543-7462-BDC2-0E8FA0F51C1A', 16), 14, 'case does not matter');
  assert.equal(shardOf('ffffffff-ffff-ffff-ffff-ffffffffffff', 1024), 913);
});

test('when many random ids are sharded, then every shard gets a fair share', () => {
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 16_000; i++) counts[shardOf(randomUUID(), 16)]++;
  for (const n of counts) assert.ok(n > 800 && n < 1200, `share ${n}`);
});

test('when a subject is built for an operation, then parsing it finds the same operation and shard', () => {
  assert.deepEqual(parseSubject(subjectFor(inventory.book, 7)), { operation: inventory.book, shard: 7 });
  assert.deepEqual(parseSubject(subjectFor(identity.login)), { operation: identity.login, shard: null });
  assert.equal(parseSubject('evently.inventory.any.bookings.create'), undefined, 'a shard operation needs a shard');
  assert.equal(parseSubject('evently.nobody.1.x'), undefined);
  assert.throws(() => subjectFor(inventory.getEvent));
});
