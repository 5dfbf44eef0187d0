import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
  peekTicketCode,
  publicKeyFromRaw,
  rawPublicKey,
  signTicketCode,
  ticketIdOf,
  TICKET_CODE_BYTES,
  verifyTicketCode,
} from './ticket-code.js';

const pair = () => generateKeyPairSync('ed25519');
const a = pair();
const b = pair();
const claims = { kid: 'AAAAAA', eventId: randomUUID(), bookingId: randomUUID(), seq: 3 };
const keyOf = (kid: string) => (kid === 'AAAAAA' ? a.publicKey : undefined);

test('when a code is signed and verified, then the claims come back and the code is small and deterministic', () => {
  const code = signTicketCode(claims, a.privateKey);
  assert.deepEqual(verifyTicketCode(code, keyOf), claims);
  assert.equal(Buffer.from(code, 'base64url').length, TICKET_CODE_BYTES);
  assert.ok(code.length <= 140, `${code.length} characters`);
  assert.equal(signTicketCode(claims, a.privateKey), code, 'Ed25519 signs one ticket to one code');
});

test('when a code is forged, truncated or re-signed with another key, then it does not verify', () => {
  const code = signTicketCode(claims, a.privateKey);
  const raw = Buffer.from(code, 'base64url');
  const forged = Buffer.from(raw);
  forged.writeUInt8(forged.readUInt8(30) ^ 1, 30); // another booking id, same signature
  assert.equal(verifyTicketCode(forged.toString('base64url'), keyOf), undefined, 'forged');
  assert.equal(verifyTicketCode(code.slice(0, -4), keyOf), undefined, 'truncated');
  assert.equal(
    verifyTicketCode(signTicketCode(claims, b.privateKey), keyOf),
    undefined,
    'another key under the same kid',
  );
  assert.equal(verifyTicketCode('not a code', keyOf), undefined, 'garbage');
  assert.equal(
    verifyTicketCode(signTicketCode({ ...claims, kid: 'BBBBBB' }, a.privateKey), keyOf),
    undefined,
    'unknown kid',
  );
  assert.deepEqual(peekTicketCode(forged.toString('base64url'))?.seq, 3, 'peek reads without trusting');
});

test('when a ticket id is derived, then it is a stable UUID per booking and seq', () => {
  const id = ticketIdOf(claims.bookingId, 0);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(ticketIdOf(claims.bookingId.toUpperCase(), 0), id);
  assert.notEqual(ticketIdOf(claims.bookingId, 1), id);
});

test('when a public key travels raw, then it verifies as the original, and an offline verification takes well under 1 ms', () => {
  const published = publicKeyFromRaw(rawPublicKey(a.publicKey));
  const code = signTicketCode(claims, a.privateKey);
  const runs = 2000;
  // CPU time, not wall-clock: on a busy machine the wall clock counts other processes' turns too.
  const started = process.cpuUsage();
  for (let i = 0; i < runs; i++) assert.ok(verifyTicketCode(code, () => published));
  const spent = process.cpuUsage(started);
  const perCodeMs = (spent.user + spent.system) / 1000 / runs;
  assert.ok(perCodeMs < 1, `${perCodeMs.toFixed(3)} ms of CPU per code`);
});
