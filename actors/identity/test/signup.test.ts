// Sign-up bursts against the real system at a real KDF cost: a burst gets
// only 201 or an immediate 503 with retry-after (never a 504 after the work
// was done anyway), a client that honours retry-after gets every account,
// and a register retried with the same Idempotency-Key answers as the first.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startTestSystem, type Reply, type TestSystem } from '../../../ops/testing/harness.js';

// The default KDF cost and broker timeout with one hashing thread: on a machine busy with
// other work, 16 sign-ups in flight wait longer than the timeout, so the burst must be shaped.
const BURST = 300;
const IN_FLIGHT = 16;
const CONFIG = { kdfCost: 15, kdfThreads: 1, brokerTimeoutMs: 5000 };

let t: TestSystem;
before(async () => {
  t = await startTestSystem(CONFIG);
});
after(async () => {
  await t?.stop();
});

const register = (body: Record<string, string>, key?: string) =>
  t.api('POST', '/v1/auth/register', { body, headers: key ? { 'idempotency-key': key } : {} });

describe('sign-up bursts', () => {
  test('when 300 sign-ups arrive 16 at a time, then each answer is 201 or 503 with retry-after, and a client that honours it gets all 300', async (ctx) => {
    const statuses: Record<number, number> = {};
    const badRefusals: string[] = [];
    const dropped: string[] = [];
    let next = 0;
    const client = async () => {
      while (next < BURST) {
        const n = next++;
        const body = { email: `burst-${n}@example.test`, password: 'correct horse battery', name: `Burst ${n}` };
        // Bounded, so a broken system fails the test rather than hanging it.
        for (let attempt = 0; attempt < 200; attempt++) {
          // A dropped connection lost the answer: api.md tells a client to send it again with its key.
          const r: Reply | undefined = await register(body, `burst-${n}`).catch((err: unknown) => {
            dropped.push(String((err as { cause?: unknown }).cause ?? err));
            return undefined;
          });
          if (!r) continue;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 201) break;
          const wait = Number(r.headers.get('retry-after'));
          if (r.status !== 503 || r.body?.code !== 'UNAVAILABLE' || !(wait >= 1)) {
            badRefusals.push(`${r.status} ${r.headers.get('retry-after')} ${JSON.stringify(r.body)}`);
            break;
          }
          await sleep(wait * 1000);
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, client));
    ctx.diagnostic(`statuses ${JSON.stringify(statuses)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (dropped.length > 0) ctx.diagnostic(`${dropped.length} connections dropped, sent again: ${dropped[0]}`);
    assert.deepEqual(badRefusals, [], 'only 201 or 503 UNAVAILABLE with retry-after');
    assert.deepEqual(
      Object.keys(statuses).filter((s) => s !== '201' && s !== '503'),
      [],
    );
    assert.equal(statuses[201], BURST, `statuses ${JSON.stringify(statuses)}`);
    const { rows } = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE email LIKE 'burst-%@example.test'",
    );
    assert.equal(rows[0]?.n, BURST);
  });
});

describe('register idempotency', () => {
  const body = { email: 'Idem@Example.test', password: 'correct horse battery', name: 'Idem' };
  /**
   * A register as a client sends it: a `503` with retry-after (the hashing queue is full, e.g. still
   * busy on a loaded machine) is sent again with the same key once the wait is over, as api.md says.
   */
  const registerAsClient = async (b: Record<string, string>, key?: string): Promise<Reply> => {
    for (let attempt = 1; ; attempt++) {
      const r = await register(b, key);
      const wait = Number(r.headers.get('retry-after'));
      if (r.status !== 503 || !(wait >= 1) || attempt >= 30) return r;
      await sleep(wait * 1000);
    }
  };

  test('when a register is retried with the same Idempotency-Key, then it gets the first 201 body, not EMAIL_TAKEN', async () => {
    const first = await registerAsClient(body, 'signup-1');
    assert.equal(first.status, 201);
    const again = await registerAsClient({ ...body, email: 'idem@example.test' }, 'signup-1');
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    const { rows } = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE lower(email) = 'idem@example.test'",
    );
    assert.equal(rows[0]?.n, 1);
    const withoutKey = await registerAsClient(body);
    assert.equal(withoutKey.body.code, 'EMAIL_TAKEN');
  });

  test('when the same Idempotency-Key comes with another password or name, then 409 IDEMPOTENCY_CONFLICT', async () => {
    const password = await registerAsClient({ ...body, password: 'another password 1' }, 'signup-1');
    assert.equal(password.status, 409);
    assert.equal(password.body.code, 'IDEMPOTENCY_CONFLICT');
    const name = await registerAsClient({ ...body, name: 'Someone else' }, 'signup-1');
    assert.equal(name.status, 409);
    assert.equal(name.body.code, 'IDEMPOTENCY_CONFLICT');
  });

  test('when two attempts with one Idempotency-Key race, then both get the same 201 and one account exists', async () => {
    const racer = { email: 'racer@example.test', password: 'correct horse battery', name: 'Racer' };
    const [a, b] = await Promise.all([registerAsClient(racer, 'race-1'), registerAsClient(racer, 'race-1')]);
    assert.deepEqual([a.status, b.status], [201, 201]);
    assert.deepEqual(a.body, b.body);
  });
});
