// The edge's account cache asks identity about the users it has not seen in
// one request per turn, not one per user: a sale's crowd arrives at once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ok, refuse, type AccountState } from '../../protocol/index.js';
import { AccountStates } from './account-states.js';
import type { Broker } from '../broker.js';

function identityStub(known: readonly AccountState[], answer: 'ok' | 'down' = 'ok') {
  const asked: string[][] = [];
  const broker = {
    call: async (_op: unknown, payload: { userIds: string[] }) => {
      asked.push(payload.userIds);
      if (answer === 'down') return refuse('UNAVAILABLE', 'identity away');
      return ok({ items: known.filter((s) => payload.userIds.includes(s.userId)) });
    },
  } as unknown as Broker;
  return { broker, asked };
}

const active = (userId: string): AccountState => ({ userId, role: 'user', status: 'active', tokenVersion: 0 });

test('when many unseen users are checked in one turn, then identity is asked once per 500 and each gets their state', async () => {
  const users = Array.from({ length: 700 }, () => randomUUID());
  const { broker, asked } = identityStub(users.slice(0, 699).map(active));
  const states = new AccountStates(broker, 3000);
  const got = await Promise.all(users.map((u) => states.current(u, 'req')));
  assert.deepEqual(
    asked.map((a) => a.length),
    [500, 200],
  );
  assert.deepEqual(
    got.slice(0, 699).map((s) => s?.userId),
    users.slice(0, 699),
  );
  assert.equal(got[699], null, 'a user identity does not know is null (no such user)');
  const [first] = users;
  assert.ok(first);
  assert.deepEqual(await states.current(first, 'req'), active(first), 'then cached');
  assert.equal(asked.length, 2);
});

test('when identity cannot answer, then each user of the batch is undefined (unavailable), not null (no such user)', async () => {
  const { broker } = identityStub([], 'down');
  const states = new AccountStates(broker, 3000);
  const got = await Promise.all([states.current(randomUUID(), 'a'), states.current(randomUUID(), 'b')]);
  assert.deepEqual(got, [undefined, undefined]);
});
