// The offline scanner (ops/scanner) as door staff run it, against the real
// system: sync keys and revocations, verify offline, upload when back online.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Ticket } from '../../protocol/index.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

const SCANNER = new URL('../../ops/scanner/cli.js', import.meta.url).pathname;
const run = promisify(execFile);

describe('offline scanner', () => {
  let t: TestSystem;
  let dir: string;
  let staff: string;
  before(async () => {
    t = await startTestSystem();
    dir = await mkdtemp(join(tmpdir(), 'evently-scanner-'));
    const [s] = await t.registerUsers(1, 'scanner-staff');
    await t.db.query(`UPDATE users SET role = 'staff' WHERE id = $1`, [s.id]);
    staff = (await t.api('POST', '/v1/auth/login', { body: { email: s.email, password: 'correct horse battery' } }))
      .body.token;
  });
  after(async () => {
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const scanner = async (state: string, ...args: string[]) => {
    const { stdout } = await run(process.execPath, [SCANNER, ...args, '--state', join(dir, state)]);
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };

  test('when --help is asked for, then it prints its usage and exits 0', async () => {
    const { stdout } = await run(process.execPath, [SCANNER, '--help']);
    assert.match(stdout, /sync[\s\S]*scan[\s\S]*upload/);
  });

  test('when two offline gates admit tickets and upload later, then forged, revoked and repeated codes are refused at the door and the earliest scan wins', async () => {
    const event = await t.createEvent();
    const [u] = await t.registerUsers(1, 'scanner-buyer');
    const book = async (quantity: number) => {
      const b = await t.api('POST', `/v1/events/${event.id}/bookings`, { token: u.token, body: { quantity } });
      assert.equal(b.status, 201);
      return {
        id: b.body.id as string,
        tickets: (await t.api('GET', `/v1/bookings/${b.body.id}/tickets`, { token: u.token })).body.items as Ticket[],
      };
    };
    const kept = await book(2);
    const doomed = await book(1);
    const common = ['--url', t.url, '--event', event.id, '--token', staff];
    await scanner('north.json', 'sync', ...common, '--gate', 'north');
    await scanner('south.json', 'sync', ...common, '--gate', 'south');
    assert.equal((await t.api('POST', `/v1/bookings/${doomed.id}/cancel`, { token: u.token })).status, 200);
    await scanner('north.json', 'sync', '--token', staff);

    const [keptFirst, keptSecond] = kept.tickets;
    const [doomedTicket] = doomed.tickets;
    assert.ok(keptFirst && keptSecond && doomedTicket, 'three tickets');
    const forged = Buffer.from(keptSecond.code, 'base64url');
    forged.writeUInt8(forged.readUInt8(40) ^ 1, 40);
    const north = await scanner(
      'north.json',
      'scan',
      keptFirst.code,
      keptFirst.code,
      doomedTicket.code,
      forged.toString('base64url'),
    );
    assert.deepEqual(
      north.map((r) => r.result),
      ['ok', 'ALREADY_CHECKED_IN', 'TICKET_REVOKED', 'INVALID_TICKET'],
    );
    // South never heard of north's scan (offline), and admits the same ticket a moment later.
    const [south] = await scanner('south.json', 'scan', keptFirst.code);
    assert.equal(south?.result, 'ok');

    const [southUpload] = await scanner('south.json', 'upload', '--token', staff);
    assert.deepEqual(
      southUpload.results.map((r: { result: string }) => r.result),
      ['ok'],
    );
    const [northUpload] = await scanner('north.json', 'upload', '--token', staff);
    assert.deepEqual(
      northUpload.results.map((r: { result: string; gate: string }) => [r.result, r.gate]),
      [['ok', 'north']],
      'the earlier scan wins',
    );
    const listed = (await t.api('GET', `/v1/bookings/${kept.id}/tickets`, { token: u.token })).body.items as Ticket[];
    assert.deepEqual(
      listed.map((x) => [x.status, x.gate]),
      [
        ['checked_in', 'north'],
        ['valid', null],
      ],
    );
    const [again] = await scanner('north.json', 'upload', '--token', staff);
    assert.deepEqual(again.results, [], 'the queue is empty once uploaded');
  });
});
