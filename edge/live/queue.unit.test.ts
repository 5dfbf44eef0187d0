// A crowd's sockets subscribing to a room's queue in the same turn are asked
// about in one positions request (up to 1,000 users), not one each: 5,000
// single requests queued on the room's one actor thread and made polls 504.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ok, type Outcome, type QueueTicket } from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';
import type { LiveClient } from './hub.js';
import { admission, lineBroker, waitingTicket, watchedRoom } from './queue-fakes.js';

test('when 1,200 sockets subscribe in one turn, then the room is asked twice and each socket gets its own place', async () => {
  const eventId = randomUUID();
  const users: string[] = Array.from({ length: 1200 }, () => randomUUID());
  const asked: number[] = [];
  const broker = lineBroker(eventId, (userId) => users.indexOf(userId), { ratePerSecond: 0, seq: 1, asked });
  const { subscribe } = watchedRoom(eventId, broker);
  const got = await Promise.all(users.map(subscribe));
  assert.deepEqual(asked, [1000, 200]);
  got.forEach((outcome, i) => {
    assert.ok(outcome.ok, `socket ${i}`);
    assert.equal(outcome.value.position, i + 1, `socket ${i}'s own place`);
  });
});

test('when a resync answer is older than a change the edge already applied, then a follower keeps its newer place and the resyncs end', async () => {
  const eventId = randomUUID();
  const a = randomUUID();
  const b = randomUUID();
  const rankOf = new Map<string, number>([
    [a, 99],
    [b, 49],
  ]);
  // The room after `seq` ticks, each of which admitted 10 people ahead of both (both near the front,
  // where every move is a frame).
  const answer = (userIds: string[], seq: number) =>
    ok({
      items: userIds.map((userId) => {
        const rank = rankOf.get(userId) ?? 0;
        return { userId, rank, ticket: waitingTicket(eventId, rank + 1 - 10 * seq) };
      }),
      ratePerSecond: 10,
      epoch: 'e',
      seq,
    });
  const held: { userIds: string[]; resolve: (seq: number) => void }[] = [];
  let hold = false;
  const broker = {
    call: (_op: unknown, payload: { userIds: string[] }) =>
      hold
        ? new Promise((resolve) =>
            held.push({ userIds: payload.userIds, resolve: (seq) => resolve(answer(payload.userIds, seq)) }),
          )
        : Promise.resolve(answer(payload.userIds, 0)),
  } as unknown as Broker;
  const { watch, frames, subscribe, tick: applied } = watchedRoom(eventId, broker);
  // Tick `seq` admitted 10 more people, all ahead of A and B.
  const tick = (seq: number) =>
    applied(
      seq,
      Array.from({ length: 10 }, (_, i) => (seq - 1) * 10 + i),
    );
  const asked = async (n: number) => {
    while (held.length < n) await new Promise((resolve) => setImmediate(resolve));
  };

  await subscribe(a);
  await tick(1);
  // B's place was read before tick 1 reached the edge: B follows from seq 0, one change behind.
  await subscribe(b);
  hold = true;
  await tick(2); // a gap for B: the room is asked again
  await asked(1);
  await tick(3); // read at seq 2, answered after tick 3 was applied
  held.shift()?.resolve(2);
  await asked(1); // the resync asked for meanwhile
  held.shift()?.resolve(3);
  await new Promise((resolve) => setImmediate(resolve));
  await tick(4);
  await new Promise((resolve) => setImmediate(resolve));
  watch.stop();
  assert.deepEqual(frames.get(a), [100, 90, 80, 70, 60], 'A never moved back to the older answer');
  assert.deepEqual(frames.get(b), [50, 30, 20, 10], 'B caught up from the answers, then followed the ticks');
  assert.equal(held.length, 0, 'no further resync');
});

test(
  'when a tick admits several followers, then their admitted frames go out evenly over its spread, in admission order',
  { timeout: 60_000 },
  async () => {
    const eventId = randomUUID();
    const users: string[] = Array.from({ length: 4 }, () => randomUUID());
    const broker = lineBroker(eventId, (userId) => users.indexOf(userId));
    const { watch, sent, subscribe, tick } = watchedRoom(eventId, broker);
    for (const u of users) await subscribe(u);
    sent.length = 0;
    const admittedAt = Date.now();
    await tick(1, [0, 1, 2, 3], 10, {
      admitted: users.map((userId) => admission(userId)),
      spreadMs: 400,
    });
    assert.deepEqual(
      sent.map((f) => f.userId),
      users.slice(0, 1),
      'the first at once, the others later',
    );
    while (sent.filter((f) => f.type === 'admitted').length < users.length)
      await new Promise((resolve) => setTimeout(resolve, 10));
    watch.stop();
    const admitted = sent.filter((f) => f.type === 'admitted');
    assert.deepEqual(
      admitted.map((f) => f.userId),
      users,
      'in admission order',
    );
    // 0, 100, 200 and 300 ms after the change (timers fire late on a busy machine, never early).
    admitted.forEach((f, k) =>
      assert.ok(f.at - admittedAt >= k * 100 - 2, `frame ${k} at ${f.at - admittedAt} ms, not before ${k * 100}`),
    );
  },
);

test(
  'when a socket signs in as someone else before its admitted frame is due, then that frame is not sent to it',
  { timeout: 60_000 },
  async () => {
    const eventId = randomUUID();
    const [first, second] = [randomUUID(), randomUUID()];
    const users: string[] = [first, second];
    const broker = lineBroker(eventId, (userId) => users.indexOf(userId));
    const { watch, sent, subscribe, tick } = watchedRoom(eventId, broker);
    await subscribe(first);
    const socket = { userId: second } as unknown as LiveClient;
    await watch.subscribe(socket, eventId, 'req');
    sent.length = 0;
    await tick(1, [0, 1], 10, {
      admitted: users.map((userId) => admission(userId)),
      spreadMs: 200,
    });
    socket.userId = randomUUID(); // signed in as another user on the same socket
    // A timer set now for 201 ms fires after the second frame's (due 100 ms after the change).
    await new Promise((resolve) => setTimeout(resolve, 201));
    watch.stop();
    assert.deepEqual(
      sent.map((f) => [f.userId, f.type]),
      [[first, 'admitted']],
    );
  },
);

test("when one of a user's two sockets closes, then only the other gets the next frames, and then none once both closed", async () => {
  const eventId = randomUUID();
  const [user, other] = [randomUUID(), randomUUID()];
  const users: string[] = [other, user];
  const broker = lineBroker(eventId, (userId) => users.indexOf(userId) + 10);
  const { watch, sent, tick } = watchedRoom(eventId, broker);
  const closing = { userId: user } as unknown as LiveClient;
  const staying = { userId: user } as unknown as LiveClient;
  const bystander = { userId: other } as unknown as LiveClient;
  for (const socket of [closing, staying, bystander]) assert.ok((await watch.subscribe(socket, eventId, 'req')).ok);
  sent.length = 0;
  watch.drop(closing);
  await tick(1, [0]);
  assert.equal(sent.filter((f) => f.userId === user).length, 1, 'one frame, to the socket still open');
  watch.drop(staying);
  await tick(2, [1]);
  watch.stop();
  assert.equal(sent.filter((f) => f.userId === user).length, 1, 'no frame once both closed');
  assert.equal(sent.filter((f) => f.userId === other).length, 2, "the other user's socket is untouched");
});

test('when the room is slow, then at most two positions requests are out and those who came meanwhile are asked together', async () => {
  const eventId = randomUUID();
  const users: string[] = Array.from({ length: 7 }, () => randomUUID());
  const held: { userIds: string[]; resolve: () => void }[] = [];
  const answerFor = (userIds: string[]) =>
    ok({
      items: userIds.map((userId) => {
        const rank = users.indexOf(userId);
        return { userId, rank, ticket: waitingTicket(eventId, rank + 1) };
      }),
      ratePerSecond: 10,
      epoch: 'e',
      seq: 0,
    });
  const broker = {
    call: (_op: unknown, payload: { userIds: string[] }) =>
      new Promise((resolve) =>
        held.push({ userIds: payload.userIds, resolve: () => resolve(answerFor(payload.userIds)) }),
      ),
  } as unknown as Broker;
  const { watch, subscribe } = watchedRoom(eventId, broker);
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const answers: Promise<Outcome<QueueTicket>>[] = [];
  for (const u of users) {
    answers.push(subscribe(u));
    await turn();
  }
  assert.deepEqual(
    held.map((h) => h.userIds.length),
    [1, 1],
    'two out, the other five wait',
  );
  held[0]?.resolve();
  while (held.length < 3) await turn();
  assert.deepEqual(held[2]?.userIds, users.slice(2), 'the five in one request');
  for (const h of held.slice(1)) h.resolve();
  const got = await Promise.all(answers);
  watch.stop();
  got.forEach((outcome, i) => assert.equal(outcome.ok && outcome.value.position, i + 1, `user ${i}'s place`));
});
