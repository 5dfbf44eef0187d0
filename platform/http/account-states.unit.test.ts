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
  const held: (() => void)[] = [];
  const stub = {
    /** While true, answers wait for release(). */
    hold: false,
    release: () => held.splice(0).forEach((go) => go()),
  };
  const broker = {
    call: async (_op: unknown, payload: { userIds: string[] }) => {
      asked.push(payload.userIds);
      if (stub.hold) await new Promise<void>((resolve) => held.push(resolve));
      if (answer === 'down') return refuse('UNAVAILABLE', 'identity away');
      return ok({ items: known.filter((s) => payload.userIds.includes(s.userId)) });
    },
  } as unknown as Broker;
  return Object.assign(stub, { broker, asked });
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

test('when a user with a live session only listens for longer than the hard limit, then their state is refreshed before it and their next request does not wait for identity', async () => {
  const [listening, alsoListening, quiet] = [randomUUID(), randomUUID(), randomUUID()];
  const identity = identityStub([listening, alsoListening, quiet].map(active));
  const { broker, asked } = identity;
  let clock = 0;
  const states = new AccountStates(broker, 3000, 100, () => clock);
  for (const u of [listening, alsoListening, quiet]) states.seed(active(u));
  const sessions = [listening, alsoListening];

  clock = 14_000;
  states.refreshAging(sessions);
  assert.equal(asked.length, 0, 'not yet half the 30 s hard limit');
  clock = 16_000;
  states.refreshAging(sessions);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(asked, [sessions], 'the aging sessions, in one request');

  clock = 31_000;
  identity.hold = true;
  const answered = (p: Promise<unknown>) =>
    Promise.race([p.then(() => true), new Promise((resolve) => setTimeout(resolve, 50, false))]);
  assert.equal(await answered(states.current(listening, 'req')), true, 'a refreshed session answers from the cache');
  assert.equal(
    await answered(states.current(quiet, 'req')),
    false,
    'a user without a session, past the hard limit, waits for identity',
  );
  identity.release();
});

test(
  'when keepFresh runs, then it asks about its sessions on its own timer and stops with close',
  { timeout: 60_000 },
  async () => {
    const user = randomUUID();
    const { broker, asked } = identityStub([active(user)]);
    const states = new AccountStates(broker, 10);
    states.seed(active(user));
    states.keepFresh(() => [user]);
    while (asked.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(asked[0], [user]);
    states.close();
    const after = asked.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(asked.length <= after + 1, 'no more refreshes after close');
  },
);

test('when identity is slow, then at most two lookups are out and the users who came meanwhile are asked about together', async () => {
  const users = Array.from({ length: 5 }, () => randomUUID());
  const identity = identityStub(users.map(active));
  identity.hold = true;
  const states = new AccountStates(identity.broker, 3000);
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const got: Promise<unknown>[] = [];
  for (const u of users) {
    got.push(states.current(u, 'req'));
    await turn();
  }
  assert.deepEqual(identity.asked, [users.slice(0, 1), users.slice(1, 2)], 'two out, three waiting');
  identity.hold = false;
  identity.release();
  assert.deepEqual(
    (await Promise.all(got)).map((s) => (s as AccountState).userId),
    users,
  );
  assert.deepEqual(identity.asked.slice(2), [users.slice(2)], 'the three in one request');
});
