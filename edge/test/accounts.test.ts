// Tokens die with their user (issue 14): a deleted or disabled user, or one
// whose role changed, is 401 at once on HTTP and on /ws, not at the token's
// expiry; admins list users, disable them and change their role.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';
import { eventuallyValue } from '../../ops/testing/eventually.js';
import { isError, LiveTestClient } from '../../ops/testing/live-client.js';

let t: TestSystem;
before(async () => {
  // A long cache: only the change broadcast can make these tests pass at once.
  t = await startTestSystem({ tokenCheckTtlMs: 10_000 });
});
after(async () => {
  await t?.stop();
});

const login = (email: string) =>
  t.api('POST', '/v1/auth/login', { body: { email, password: 'correct horse battery' } });

test("when a user is deleted, then their token is 401 once the edge's brief account cache lapses, and a booking is 401 rather than a misleading 503", async () => {
  const [user] = await t.registerUsers(1, 'deleted');
  const event = await t.createEvent();
  assert.equal((await t.api('GET', '/v1/bookings', { token: user.token })).status, 200);
  await t.db.query('DELETE FROM users WHERE id = $1', [user.id]);
  // Deleting a row behind identity's back broadcasts nothing: the brief cache bounds it.
  const listed = await eventuallyValue(
    '401 for the deleted user',
    async () => {
      const r = await t.api('GET', '/v1/bookings', { token: user.token });
      return r.status === 401 ? r : undefined;
    },
    30_000,
  );
  assert.equal(listed.body.code, 'UNAUTHENTICATED');
  const booked = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: user.token, body: { quantity: 1 } });
  assert.equal(booked.status, 401, JSON.stringify(booked.body));
});

test("when an admin demotes another admin, then that admin's token is refused at once, and a fresh sign-in has the new role", async () => {
  const [user] = await t.registerUsers(1, 'promoted');
  const promoted = await t.api('PUT', `/v1/admin/users/${user.id}/role`, {
    token: t.adminToken,
    body: { role: 'admin' },
  });
  assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
  assert.equal(promoted.body.role, 'admin');
  assert.equal((await t.api('GET', '/v1/bookings', { token: user.token })).status, 401, 'the token of the old role');
  const adminToken = (await login(user.email)).body.token as string;
  assert.equal((await t.api('GET', '/v1/admin/users', { token: adminToken })).status, 200, 'admin now');
  assert.equal(
    (await t.api('PUT', `/v1/admin/users/${user.id}/role`, { token: t.adminToken, body: { role: 'user' } })).status,
    200,
  );
  const refused = await t.api('GET', '/v1/admin/users', { token: adminToken });
  assert.equal(refused.status, 401, 'a demoted admin is not admin until expiry');
  assert.match(refused.body.detail, /role/);
  assert.equal(
    (await t.api('PUT', `/v1/admin/users/${user.id}/role`, { token: t.adminToken, body: { role: 'staff' } })).body.role,
    'staff',
  );
  const bogus = await t.api('PUT', `/v1/admin/users/${user.id}/role`, { token: t.adminToken, body: { role: 'root' } });
  assert.equal(bogus.status, 400);
  assert.match(bogus.body.detail, /role must be one of user, staff, admin/);
});

test('when an admin disables a user, then their token is 401 on HTTP and their socket is signed out at once, and they cannot sign in', async () => {
  const [user] = await t.registerUsers(1, 'disabled');
  const socket = await LiveTestClient.open(t.url);
  try {
    socket.send({ type: 'auth', token: user.token });
    await socket.next((m) => m.type === 'ack', 'auth ack');
    const disabled = await t.api('PUT', `/v1/admin/users/${user.id}/status`, {
      token: t.adminToken,
      body: { status: 'disabled' },
    });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.status, 'disabled');
    await socket.next(isError('UNAUTHENTICATED'), 'signed out on the socket', 20_000);
    assert.equal((await t.api('GET', '/v1/bookings', { token: user.token })).status, 401);
    socket.send({ type: 'auth', token: user.token });
    await socket.next(isError('UNAUTHENTICATED'), 'the old token cannot sign the socket in again');
  } finally {
    socket.close();
  }
  const refused = await login(user.email);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'ACCOUNT_DISABLED');
  assert.equal(
    (await t.api('PUT', `/v1/admin/users/${user.id}/status`, { token: t.adminToken, body: { status: 'active' } }))
      .status,
    200,
  );
  assert.equal((await login(user.email)).status, 200, 'enabled again');
});

test('when an admin lists users, then they are found by email; a user is refused and a crafted cursor is a 400', async () => {
  const [user] = await t.registerUsers(1, 'listed');
  const found = await t.api('GET', `/v1/admin/users?q=${encodeURIComponent(user.email)}`, { token: t.adminToken });
  assert.equal(found.status, 200);
  assert.deepEqual(
    found.body.items.map((u: { id: string }) => u.id),
    [user.id],
  );
  assert.equal(found.body.items[0].status, 'active');
  assert.equal((await t.api('GET', '/v1/admin/users', { token: user.token })).status, 403);
  const cursor = Buffer.from(JSON.stringify(['x'])).toString('base64url');
  assert.equal((await t.api('GET', `/v1/admin/users?cursor=${cursor}`, { token: t.adminToken })).status, 400);
});
