// A crowd's sockets subscribing to a room's queue in the same turn are asked
// about in one positions request (up to 1,000 users), not one each: 5,000
// single requests queued on the room's one actor thread and made polls 504.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import type { NatsConnection } from 'nats';
import { ok, type QueueTicket } from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';
import type { LiveClient, LiveHub } from './hub.js';
import { QueueWatch } from './queue.js';

const eventId = randomUUID();

function ticket(position: number): QueueTicket {
  return {
    id: randomUUID(),
    eventId,
    state: 'waiting',
    position,
    estimatedWaitSeconds: null,
    pollAfterSeconds: 2,
    joinedAt: new Date().toISOString(),
    admittedAt: null,
    admission: null,
  };
}

test('when 1,200 sockets subscribe in one turn, then the room is asked twice and each socket gets its own place', async () => {
  const users: string[] = Array.from({ length: 1200 }, () => randomUUID());
  const asked: number[] = [];
  const broker = {
    call: async (_op: unknown, payload: { userIds: string[] }) => {
      asked.push(payload.userIds.length);
      return ok({
        items: payload.userIds.map((userId) => ({
          userId,
          rank: users.indexOf(userId),
          ticket: ticket(users.indexOf(userId) + 1),
        })),
        ratePerSecond: 0,
        epoch: 'e',
        seq: 1,
      });
    },
  } as unknown as Broker;
  const nc = { subscribe: () => ({ unsubscribe: () => undefined }) } as unknown as NatsConnection;
  const hub = { deliver: () => true } as unknown as LiveHub;
  const watch = new QueueWatch(nc, broker, hub, { warn: () => undefined } as unknown as FastifyBaseLogger);
  const got = await Promise.all(
    users.map((userId) => watch.subscribe({ userId } as unknown as LiveClient, eventId, 'req')),
  );
  assert.deepEqual(asked, [1000, 200]);
  got.forEach((outcome, i) => {
    assert.ok(outcome.ok, `socket ${i}`);
    assert.equal(outcome.value.position, i + 1, `socket ${i}'s own place`);
  });
});
