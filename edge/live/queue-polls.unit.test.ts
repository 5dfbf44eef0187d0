// A poller of GET .../waiting-room/me follows the room at the edge: the room is
// asked about it once, then its polls are answered from the room's ticks, with
// what the room would answer; whatever the edge cannot follow (a departure,
// an expired admission, a client gone quiet) makes the next poll ask the room.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mock, test } from 'node:test';
import type { QueueTicket } from '../../protocol/index.js';
import { admission, placedTicket, polledRoom, watchedRoom } from './queue-fakes.js';

/** A poll's answer, which must be a ticket. */
async function ticketOf(answer: Promise<{ ok: boolean; value?: QueueTicket }>): Promise<QueueTicket> {
  const outcome = await answer;
  assert.ok(outcome.ok && outcome.value, 'a ticket');
  return outcome.value;
}

/** A room where `userId` waits at rank 50 (place 51) and has polled once. */
async function followedPoller() {
  const eventId = randomUUID();
  const userId = randomUUID();
  const room = polledRoom(eventId);
  room.tickets.set(userId, { rank: 50, ticket: placedTicket(eventId, 51) });
  const edge = watchedRoom(eventId, room.broker);
  const first = await ticketOf(edge.poll(userId));
  return { eventId, userId, room, edge, first };
}

test('when a user polls again, then the room is asked once and the edge answers as the room would', async () => {
  const { eventId, userId, room, edge, first } = await followedPoller();
  assert.deepEqual(first, room.tickets.get(userId)?.ticket, "the first poll: the room's answer");
  await edge.tick(1, []);
  const again = await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.deepEqual(room.asked, ['positions'], 'asked once');
  const { pollAfterSeconds, ...rest } = again;
  const { pollAfterSeconds: roomSays, ...roomRest } = placedTicket(eventId, 51);
  assert.deepEqual(rest, { ...roomRest, id: first.id, joinedAt: first.joinedAt });
  // 51 places at 10 a second: 6 s, a fifth of it 2 s, drawn from [1, 2] as the room draws it.
  assert.ok(
    pollAfterSeconds === 1 || pollAfterSeconds === 2,
    `pollAfterSeconds ${pollAfterSeconds} (room ${roomSays})`,
  );
});

test('when a tick removes ranks ahead of a poller, then its next poll has the moved place, still without asking', async () => {
  const { userId, room, edge } = await followedPoller();
  await edge.tick(1, [3, 7, 60]); // two ahead of rank 50, one behind
  const moved = await ticketOf(edge.poll(userId));
  await edge.tick(2, [0]);
  const again = await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.deepEqual([moved.position, moved.estimatedWaitSeconds, again.position], [49, 5, 48]);
  assert.deepEqual(room.asked, ['positions']);
});

test('when a tick admits a poller, then its polls answer `admitted` with the admission, as the room would', async () => {
  const { eventId, userId, room, edge, first } = await followedPoller();
  const admitted = admission(userId);
  await edge.tick(1, [50], 10, { admitted: [admitted] });
  const answer = await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.deepEqual(answer, {
    id: first.id,
    eventId,
    state: 'admitted',
    position: null,
    estimatedWaitSeconds: 0,
    pollAfterSeconds: null,
    joinedAt: first.joinedAt,
    admittedAt: admitted.admittedAt,
    admission: { token: admitted.token, expiresAt: admitted.expiresAt },
  });
  assert.deepEqual(room.asked, ['positions']);
});

test("when a poller's rank leaves the line without an admission, then its next poll asks the room", async () => {
  const { userId, room, edge, first } = await followedPoller();
  // It left through another edge: the room ended its ticket, the tick says only that rank 50 left.
  room.tickets.set(userId, { rank: 50, ticket: { ...first, state: 'left', position: null, pollAfterSeconds: null } });
  room.seq = 1;
  await edge.tick(1, [50]);
  const answer = await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.equal(answer.state, 'left');
  assert.deepEqual(room.asked, ['positions', 'positions', 'mine'], 'no live ticket: the room says which it had');
});

test("when a poller's admission has expired, then its next poll asks the room", async () => {
  const { userId, room, edge, first } = await followedPoller();
  await edge.tick(1, [50], 10, { admitted: [admission(userId, 30)] });
  assert.equal((await ticketOf(edge.poll(userId))).state, 'admitted', 'while valid: answered at the edge');
  room.tickets.set(userId, {
    rank: 50,
    ticket: { ...first, state: 'expired', position: null, pollAfterSeconds: null },
  });
  await new Promise((resolve) => setTimeout(resolve, 40));
  await edge.tick(2, []);
  const answer = await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.equal(answer.state, 'expired');
  assert.deepEqual(room.asked, ['positions', 'positions', 'mine']);
});

test('when a poller stops polling for twice its interval and 10 s, then it is forgotten and its next poll asks the room', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: Date.now() });
  t.after(() => mock.timers.reset());
  const { userId, room, edge, first } = await followedPoller();
  // Told to come back within `pollAfterSeconds`; a client that comes back just in time keeps its entry.
  const patience = 2_000 * (first.pollAfterSeconds ?? 0) + 10_000;
  mock.timers.tick(patience - 1_000);
  await edge.tick(1, []);
  await ticketOf(edge.poll(userId));
  assert.deepEqual(room.asked, ['positions'], 'polled in time: answered at the edge');
  const { pollAfterSeconds } = await ticketOf(edge.poll(userId));
  mock.timers.tick(2_000 * (pollAfterSeconds ?? 0) + 10_000 + 5_000);
  await edge.tick(2, []);
  // Over 15 s since the first poll: the tick also asked the room again for every follower (a resync).
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  const asked = room.asked.length;
  await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.equal(room.asked.length, asked + 1, 'gone quiet: forgotten, the poll asks the room');
});

test('when a broadcast is lost, then a poller is asked about at its next poll, not in a resync of everyone', async () => {
  const { eventId, userId, room, edge } = await followedPoller();
  await edge.tick(1, [3]);
  room.seq = 3;
  room.tickets.set(userId, { rank: 50, ticket: placedTicket(eventId, 47) });
  await edge.tick(3, [4, 5]); // seq 2 never came
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(room.asked, ['positions'], 'no resync for pollers');
  const answer = await ticketOf(edge.poll(userId));
  await edge.tick(4, [6]);
  const next = await ticketOf(edge.poll(userId));
  edge.watch.stop();
  assert.equal(answer.position, 47, "behind: the room's answer");
  assert.equal(next.position, 46, 'followed again from it');
  assert.deepEqual(room.asked, ['positions', 'positions']);
});
