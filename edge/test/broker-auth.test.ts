// The broker authenticates and authorises (issue 14): a process on the NATS
// network without credentials is refused; with the edge's credentials it can
// ask, but no actor takes its word for a user or a role, so it gets no admin
// answer from any actor, and it cannot publish a domain event.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, headers, type NatsConnection } from 'nats';
import { domainSubject, Headers, operations, subjectFor, type Operation, type Outcome } from '../../protocol/index.js';
import { signIdentity } from '../../platform/identity-signature.js';
import { natsOptions } from '../../platform/nats-connect.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

let t: TestSystem;
let edge: NatsConnection;
before(async () => {
  t = await startTestSystem();
  edge = await connect(natsOptions(t.system.config, 'edge'));
});
after(async () => {
  await edge?.close();
  await t?.stop();
});

const every: Operation[] = Object.values(operations).flatMap((kind) => Object.values(kind));
const asAdmin = (requestId: string, signature?: string) => {
  const h = headers();
  h.set(Headers.requestId, requestId);
  h.set(Headers.userId, '01937a4c-1f00-7000-8000-0000000000aa');
  h.set(Headers.userRole, 'admin');
  if (signature) h.set(Headers.identitySignature, signature);
  return h;
};
const ask = async (op: Operation, h: ReturnType<typeof headers>) =>
  (await edge.request(subjectFor(op, op.scope === 'shard' ? 0 : undefined), '{}', { headers: h, timeout: 5000 })).json<
    Outcome<unknown>
  >();

test('when a process connects to NATS without credentials, then the broker refuses it', async () => {
  await assert.rejects(connect({ servers: t.system.config.natsUrl, reconnect: false }), /Authorization Violation/i);
  await assert.rejects(
    connect({ servers: t.system.config.natsUrl, user: 'edge', pass: 'guessed', reconnect: false }),
    /Authorization Violation/i,
  );
});

test("when a process with the edge's credentials claims to be an admin, then no actor gives it an admin answer", async () => {
  assert.ok(every.length > 20, `${every.length} operations`);
  const forged = signIdentity('not-the-identity-key', {
    userId: '01937a4c-1f00-7000-8000-0000000000aa',
    role: 'admin',
    requestId: 'forged',
  });
  for (const op of every) {
    for (const [what, h] of [
      ['unsigned', asAdmin('unsigned')],
      ['wrongly signed', asAdmin('forged', forged)],
    ] as const) {
      const reply = await ask(op, h);
      assert.equal(reply.ok, false, `${op.actor}.${op.name} ${what}: ${JSON.stringify(reply)}`);
      assert.equal(!reply.ok && reply.code, 'UNAUTHENTICATED', `${op.actor}.${op.name} ${what}`);
    }
  }
  // The summary the issue saw leak: with the edge's key it is answered, so the refusals above are the signature's doing.
  const signed = signIdentity(t.system.config.identityKey, {
    userId: '01937a4c-1f00-7000-8000-0000000000aa',
    role: 'admin',
    requestId: 'signed',
  });
  const summary = every.find((op) => op.actor === 'analytics' && op.name === 'figures.summary')!;
  assert.equal((await ask(summary, asAdmin('signed', signed))).ok, true);
});

test("when a process with the edge's credentials publishes a domain event, then the broker does not take it", async () => {
  const js = edge.jetstream();
  await assert.rejects(js.publish(domainSubject('booking.confirmed', 0), '{}', { timeout: 3000 }));
  const actorOnly = await connect(natsOptions(t.system.config, 'actors'));
  try {
    // Actors cannot send requests to one another either: a request has no subscriber it may reach.
    const [someOperation] = every;
    assert.ok(someOperation);
    await assert.rejects(actorOnly.request(subjectFor(someOperation, 0), '{}', { timeout: 2000 }));
  } finally {
    await actorOnly.close();
  }
});
