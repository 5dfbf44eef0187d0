// The waiting room end to end through the API, on real servers: the pre-queue
// draw then first come first served, a fixed admission rate held, admission
// tokens checked at the edge, when to poll again, places surviving a restart
// of the room's actor and a Redis that comes back empty, the /ws queue frames,
// polls answered at the edge from the room's ticks, and an event without a
// room booking as before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import {
  admissionKey,
  bookingPaceSubject,
  signAdmission,
  waitroom,
  type BookingPace,
  type QueueTicket,
  type ServerMessage,
} from '../../../protocol/index.js';
import { Broker } from '../../../platform/broker.js';
import { natsOptions } from '../../../platform/nats-connect.js';
import { seededShuffle } from '../shuffle.js';
import { startTestSystem, type TestSystem } from '../../../ops/testing/harness.js';
import { eventuallyValue as eventually } from '../../../ops/testing/eventually.js';
import { LiveTestClient } from '../../../ops/testing/live-client.js';

const WAIT = 60_000;

describe('waiting room', () => {
  let t: TestSystem;
  before(async () => {
    // Adaptive rooms start with 2 shoppers; one admitted over a second ago who has not booked stops counting.
    t = await startTestSystem({ waitroomTickMs: 200, waitroomStartShoppers: 2, waitroomShopSeconds: 2 });
  });
  after(async () => {
    await t?.stop();
  });

  const room = (eventId: string, body: Record<string, unknown>) =>
    t.api('PUT', `/v1/events/${eventId}/waiting-room`, { token: t.adminToken, body });
  const join = (token: string, eventId: string) => t.api('POST', `/v1/events/${eventId}/waiting-room`, { token });
  const mine = (token: string, eventId: string) => t.api('GET', `/v1/events/${eventId}/waiting-room/me`, { token });
  const book = (token: string, eventId: string, admission?: string) =>
    t.api('POST', `/v1/events/${eventId}/bookings`, {
      token,
      body: { quantity: 1 },
      headers: admission ? { 'evently-admission': admission } : {},
    });
  const state = (eventId: string) => t.api('GET', `/v1/events/${eventId}/waiting-room`, { token: t.adminToken });
  /** Waits until nobody of the room is waiting, then returns who was admitted when, in admission order. */
  const admissionsOnceAllAdmitted = async (eventId: string) => {
    await eventually('all admitted', async () => ((await state(eventId)).body.waiting === 0 ? true : undefined), WAIT);
    const { rows } = await t.db.query<{ user_id: string; admitted_at: Date }>(
      `SELECT user_id, admitted_at FROM waitroom_tickets WHERE event_id = $1 ORDER BY admitted_at, rank`,
      [eventId],
    );
    return rows;
  };
  /** An event sold out before its room (1 a minute) is on: nobody in the line is ever admitted. */
  const soldOutRoom = async (buyerPrefix: string) => {
    const event = await t.createEvent({ capacity: 1 });
    const [buyer] = await t.registerUsers(1, buyerPrefix);
    assert.equal((await book(buyer.token, event.id)).status, 201);
    assert.equal((await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 1 })).status, 200);
    return event;
  };
  /** How often the edge has asked waiting-room actors for tickets (polls and places), from its /metrics. */
  const roomAsks = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const counts = text.matchAll(
      /^evently_nats_request_duration_seconds_count\{[^}]*subject="[^"]*tickets\.(?:mine|positions)"[^}]*\} (\d+)$/gm,
    );
    return [...counts].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  const admitted = (token: string, eventId: string) =>
    eventually(
      'an admission',
      async () => {
        const r = await mine(token, eventId);
        return r.body.state === 'admitted' ? r.body : undefined;
      },
      WAIT,
    );

  test('when people join before opensAt and after it, then the pre-queue is drawn uniformly from a logged seed, ahead of later joiners in join order', async () => {
    const event = await t.createEvent();
    // Opens in an hour until every early joiner is in, then at once: joins on a slow machine never race opensAt.
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await room(event.id, { opensAt: inAnHour, admitPerMinute: 1 })).status, 200);
    const early = await t.registerUsers(6, 'early');
    const late = await t.registerUsers(4, 'late');
    for (const u of early) {
      const r = await join(u.token, event.id);
      assert.equal(r.status, 201);
      assert.equal(r.body.position, null, 'no place before the draw');
    }
    const again = await join(early[0].token, event.id);
    assert.equal(again.status, 200, 'one live ticket per user');
    assert.equal((await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 1 })).status, 200);
    const drawn = await eventually('the draw', async () => (await state(event.id)).body.shuffle ?? undefined, WAIT);
    assert.equal(drawn.count, 6);
    for (const u of late) assert.equal((await join(u.token, event.id)).status, 201);

    const places = await Promise.all(early.map(async (u) => (await mine(u.token, event.id)).body.position as number));
    assert.deepEqual([...places].sort(), [1, 2, 3, 4, 5, 6]);
    const latePlaces = await Promise.all(
      late.map(async (u) => (await mine(u.token, event.id)).body.position as number),
    );
    assert.deepEqual(latePlaces, [7, 8, 9, 10], 'after opensAt, join order');

    // The audit: the logged seed over the input order (joined_at, id) gives the drawn order.
    const input = (
      await t.db.query(`SELECT id FROM waitroom_tickets WHERE event_id = $1 AND prequeue ORDER BY joined_at, id`, [
        event.id,
      ])
    ).rows.map((r) => r.id);
    const output = (
      await t.db.query(`SELECT id FROM waitroom_tickets WHERE event_id = $1 AND prequeue ORDER BY rank`, [event.id])
    ).rows.map((r) => r.id);
    assert.deepEqual(seededShuffle(input, drawn.seed), output);

    assert.equal(
      (await t.api('DELETE', `/v1/events/${event.id}/waiting-room/me`, { token: late[0].token })).status,
      204,
    );
    assert.equal((await mine(late[0].token, event.id)).body.state, 'left');
    assert.equal((await mine(late[1].token, event.id)).body.position, 7, 'leaving gives the place up');
  });

  test('when a room admits 120 a minute, then admissions never run ahead of that rate and follow join order', async () => {
    const event = await t.createEvent();
    assert.equal((await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 120 })).status, 200);
    const users = await t.registerUsers(10, 'rate');
    for (const u of users) assert.equal((await join(u.token, event.id)).status, 201);
    const rows = await admissionsOnceAllAdmitted(event.id);
    assert.deepEqual(
      rows.map((r) => r.user_id),
      users.map((u) => u.id),
      'first come, first served',
    );
    const [firstAdmitted] = rows;
    assert.ok(firstAdmitted, 'someone admitted');
    const first = firstAdmitted.admitted_at.getTime();
    rows.forEach((r, k) => {
      const seconds = (r.admitted_at.getTime() - first) / 1000;
      // At 2 a second, the (k+1)-th admission needs about k/2 s; one tick's rounding is the slack.
      assert.ok(k + 1 <= 2 * seconds + 2, `admission ${k + 1} came ${seconds.toFixed(2)} s after the first`);
    });
  });

  test('when an admission belongs to another user or event, or has expired, then booking is 403 NOT_ADMITTED; the right one books', async () => {
    const event = await t.createEvent({ capacity: 10 });
    const other = await t.createEvent({ capacity: 10 });
    await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 600 });
    await room(other.id, { opensAt: new Date().toISOString(), admitPerMinute: 600 });
    const [a, b] = await t.registerUsers(2, 'token');
    await join(a.token, event.id);
    await join(a.token, other.id);
    await join(b.token, event.id);
    const mineA = await admitted(a.token, event.id);
    const otherA = await admitted(a.token, other.id);
    const key = admissionKey(t.system.config.admissionSecret, t.system.config.jwtSecret);
    const expired = signAdmission(key, { u: a.id, e: event.id, x: Date.now() - 1000 });
    for (const [why, token, admission] of [
      ['none', a.token, undefined],
      ["another user's", b.token, mineA.admission.token],
      ["another event's", a.token, otherA.admission.token],
      ['expired', a.token, expired],
      ['forged', a.token, `${mineA.admission.token.slice(0, -4)}AAAA`],
    ] as const) {
      const r = await book(token, event.id, admission);
      assert.equal(r.status, 403, why);
      assert.equal(r.body.code, 'NOT_ADMITTED', why);
    }
    assert.equal((await book(a.token, event.id, mineA.admission.token)).status, 201);
  });

  test('when one ticket waits far back and one at the front, then the one far back is told to poll later, also as Retry-After; an admitted one is told nothing', async () => {
    // Nobody is admitted, so each estimate stays a minute a place (the fixed rate).
    const event = await soldOutRoom('poll-buyer');
    const users = await t.registerUsers(10, 'poll');
    for (const u of users) assert.equal((await join(u.token, event.id)).status, 201);
    const front = users[0];
    const back = users[9];
    const toldToWait = (r: Awaited<ReturnType<typeof mine>>, position: number): number => {
      assert.equal(r.body.state, 'waiting');
      assert.equal(r.body.position, position);
      const after = r.body.pollAfterSeconds;
      assert.ok(Number.isInteger(after) && after >= 1 && after <= 60, `pollAfterSeconds ${after}`);
      assert.equal(r.headers.get('retry-after'), String(after), 'Retry-After says the same');
      return after;
    };
    for (const [route, ask] of [
      ['GET .../me', mine],
      ['POST again', join],
    ] as const) {
      const atFront = toldToWait(await ask(front.token, event.id), 1);
      const farBack = toldToWait(await ask(back.token, event.id), 10);
      assert.ok(farBack > atFront, `${route}: far back ${farBack} s, at the front ${atFront} s`);
    }

    const open = await t.createEvent();
    await room(open.id, { opensAt: new Date().toISOString(), admitPerMinute: 600 });
    assert.equal((await join(front.token, open.id)).status, 201);
    await admitted(front.token, open.id);
    for (const r of [await mine(front.token, open.id), await join(front.token, open.id)]) {
      assert.equal(r.body.state, 'admitted');
      assert.equal(r.body.pollAfterSeconds, null, 'nothing more to wait for');
      assert.equal(r.headers.get('retry-after'), null);
    }
  });

  test('when a crowd polls at once, then each person gets their own ticket: their place, or the ticket they gave up', async () => {
    // Nobody is admitted, so places stay put while everyone polls.
    const event = await soldOutRoom('crowd-buyer');
    const users = await t.registerUsers(30, 'crowd');
    const ticketIds: string[] = [];
    for (const u of users) {
      const joined = await join(u.token, event.id);
      assert.equal(joined.status, 201);
      ticketIds.push(joined.body.id);
    }
    const gone = users[4];
    assert.equal((await t.api('DELETE', `/v1/events/${event.id}/waiting-room/me`, { token: gone.token })).status, 204);
    // Polls of one room that arrive together are answered as one batch by the room's actor.
    const answers = await Promise.all(users.map((u) => mine(u.token, event.id)));
    answers.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body.id, ticketIds[i], `poll ${i} answered with its own ticket`);
      if (i === 4) {
        assert.equal(r.body.state, 'left');
        assert.equal(r.body.position, null);
      } else {
        assert.equal(r.body.state, 'waiting');
        assert.equal(r.body.position, i < 4 ? i + 1 : i, `place of the ${i + 1}th joiner`);
      }
    });
    const [stranger] = await t.registerUsers(1, 'crowd-stranger');
    assert.equal((await mine(stranger.token, event.id)).status, 404, 'no ticket, no answer');
  });

  test('when an admitted person books, then the edge reports how long it took to the waiting-room actors, once a second', async () => {
    const event = await t.createEvent();
    assert.equal((await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 600 })).status, 200);
    // Heard as the actors hear it: a broker user with the actors' permissions.
    const nc = await connect({
      servers: t.system.config.natsUrl,
      user: 'actors',
      pass: t.system.config.natsActorsPassword,
    });
    try {
      // No report within the patience ends the loop below with a timeout error, not a hang.
      const reports = nc.subscribe(bookingPaceSubject(event.id), { max: 1, timeout: WAIT });
      const [u] = await t.registerUsers(1, 'paced');
      assert.equal((await join(u.token, event.id)).status, 201);
      const ticket = await admitted(u.token, event.id);
      const before = Date.now();
      assert.equal((await book(u.token, event.id, ticket.admission.token)).status, 201);
      const booked = Date.now() - before;
      for await (const msg of reports) {
        const report = msg.json<BookingPace>();
        assert.equal(report.eventId, event.id);
        assert.equal(report.count, 1);
        assert.ok(report.p90Ms > 0 && report.p90Ms <= booked, `p90 ${report.p90Ms} ms, booked in ${booked} ms`);
      }
      assert.equal(reports.getProcessed(), 1, 'one report');
    } finally {
      await nc.close();
    }
  });

  test('when admitted people of an adaptive room do not book, then the room admits the next ones once they stop counting as shopping', async () => {
    const event = await t.createEvent();
    assert.equal((await room(event.id, { opensAt: new Date().toISOString() })).status, 200);
    const users = await t.registerUsers(6, 'idle');
    for (const u of users) assert.equal((await join(u.token, event.id)).status, 201);
    // Nobody books; before, the first two held the door shut for their admission's whole life (600 s).
    const rows = await admissionsOnceAllAdmitted(event.id);
    assert.deepEqual(
      rows.map((r) => r.user_id),
      users.map((u) => u.id),
      'in join order',
    );
    const at = rows.map((r) => r.admitted_at.getTime());
    // Two shoppers at a time, each counting for a second: the third comes a second after the first, at least.
    assert.ok((at[2] ?? 0) - (at[0] ?? 0) >= 900, `third admitted ${(at[2] ?? 0) - (at[0] ?? 0)} ms after the first`);
  });

  test("when the room's actor restarts and Redis comes back empty mid-queue, then every place is kept", async () => {
    const event = await t.createEvent();
    await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 1 });
    const users = await t.registerUsers(12, 'restart');
    for (const u of users) await join(u.token, event.id);
    const places = async () =>
      Promise.all(
        users.map(async (u) => {
          const r = await mine(u.token, event.id);
          return `${r.body.state}:${r.body.position}`;
        }),
      );
    const before = await places();
    assert.equal((await t.system.supervisor.control.restart('waitroom')).ok, true);
    const redis = new Redis(t.system.config.redisUrl);
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
    assert.deepEqual(await places(), before, 'read from Postgres while the mirror is rebuilt');
    await eventually(
      'the mirror rebuilt',
      async () => ((await state(event.id)).status === 200 ? true : undefined),
      WAIT,
    );
    await eventually(
      'places as before',
      async () => {
        const now = await places();
        return JSON.stringify(now) === JSON.stringify(before) ? now : undefined;
      },
      WAIT,
    );
  });

  test('when a signed-in socket follows its queue place, then it gets queue frames as the place moves and one admitted frame that books', async () => {
    const event = await t.createEvent();
    await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 1 });
    const users = await t.registerUsers(4, 'ws');
    for (const u of users) await join(u.token, event.id);
    const last = users[3];
    const ws = await LiveTestClient.open(t.url);
    try {
      ws.send({ type: 'subscribe-queue', eventId: event.id });
      await ws.next((m) => m.type === 'error' && m.code === 'UNAUTHENTICATED', 'unauthenticated error');
      ws.send({ type: 'auth', token: last.token });
      await ws.next((m) => m.type === 'ack' && m.of === 'auth', 'auth ack');
      ws.send({ type: 'subscribe-queue', eventId: event.id });
      const first = await ws.next<Extract<ServerMessage, { type: 'queue' }>>(
        (m) => m.type === 'queue',
        'first queue frame',
        WAIT,
      );
      assert.equal(first.position, 4);
      await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 60 });
      const moved = await ws.next<Extract<ServerMessage, { type: 'queue' }>>(
        (m) => m.type === 'queue' && m.position !== null && m.position < 4,
        'a moved place',
        WAIT,
      );
      assert.ok(moved.estimatedWaitSeconds !== null && moved.estimatedWaitSeconds >= 0);
      const entry = await ws.next<Extract<ServerMessage, { type: 'admitted' }>>(
        (m) => m.type === 'admitted',
        'the admitted frame',
        WAIT,
      );
      assert.equal(ws.pending((m) => m.type === 'admitted').length, 0, 'one admitted frame');
      assert.equal((await book(last.token, event.id, entry.token)).status, 201);
    } finally {
      ws.close();
    }
  });

  test("when a user polls at one edge as the line moves, then their place goes down and then they are admitted, as the room's actor says, which is asked far less often than polled", async () => {
    const event = await t.createEvent();
    await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 1 });
    const users = await t.registerUsers(12, 'edge-poll');
    for (const u of users) assert.equal((await join(u.token, event.id)).status, 201);
    const last = users[11];
    // The room's actor asked directly, as the edge asks it: the truth the edge's answers must match.
    const nc = await connect(natsOptions(t.system.config, 'edge'));
    const config = t.system.config;
    const actor = new Broker(nc, config.shards, config.brokerTimeoutMs, undefined, config.identityKey);
    const actorSays = async (): Promise<QueueTicket> => {
      const outcome = await actor.call(waitroom.mine, { eventId: event.id }, { requestId: 'test', userId: last.id });
      assert.ok(outcome.ok);
      return outcome.value;
    };
    try {
      const asksBefore = await roomAsks();
      assert.equal((await mine(last.token, event.id)).body.position, 12);
      await room(event.id, { opensAt: new Date().toISOString(), admitPerMinute: 240 });
      const places: number[] = [];
      let polls = 1;
      for (;;) {
        const edge = (await mine(last.token, event.id)).body as QueueTicket;
        const truth = await actorSays();
        polls += 1;
        if (edge.state === 'admitted') {
          assert.deepEqual(edge, truth, "the admitted ticket as the room's actor gives it");
          break;
        }
        assert.equal(edge.state, 'waiting');
        assert.equal(edge.id, truth.id);
        // The edge may lag the room by a tick, never run ahead of it.
        assert.ok(
          truth.state === 'admitted' || (edge.position ?? 0) >= (truth.position ?? 0),
          `edge ${edge.position}, room ${truth.position}`,
        );
        places.push(edge.position ?? 0);
        assert.ok(polls < 600, 'admitted within a minute of polls');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(
        places,
        [...places].sort((a, b) => b - a),
        'the place only goes down',
      );
      assert.ok(new Set(places).size >= 3, `went down step by step: ${places.join(' ')}`);
      const asked = (await roomAsks()) - asksBefore;
      assert.ok(asked <= polls / 2, `the room was asked ${asked} times for ${polls} polls`);
    } finally {
      await nc.close();
    }
  });

  test('when an event has no room, or its room is turned off, then it books without an admission as before', async () => {
    const plain = await t.createEvent();
    const [u, v] = await t.registerUsers(2, 'plain');
    assert.equal((await book(u.token, plain.id)).status, 201);
    const event = await t.createEvent();
    await room(event.id, { opensAt: new Date().toISOString() });
    await eventually(
      'the room guards bookings',
      async () => ((await book(v.token, event.id)).status === 403 ? true : undefined),
      WAIT,
    );
    assert.equal((await t.api('DELETE', `/v1/events/${event.id}/waiting-room`, { token: t.adminToken })).status, 204);
    await eventually(
      'the room is off',
      async () => ((await book(v.token, event.id)).status === 201 ? true : undefined),
      WAIT,
    );
  });
});
