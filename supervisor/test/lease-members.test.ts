// Reading the lease bucket's members against a real nats-server while
// entries expire: every read answers, and names exactly the members whose
// entry is there. nats.js's kv.keys() never returned when the one entry it
// had counted expired before it was delivered; the lease keeper's balance
// and GET /shards then waited for good (the lease-fence test hung on it once,
// when the cut-off supervisor's entry expired).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { startStack, type Stack } from '../../ops/testing/servers.js';
import { SHARD_LEASE_BUCKET, memberKey, type MemberValue } from '../../protocol/index.js';
import { readMembers } from '../lease-members.js';

const TTL_MS = 1000;
/** Far beyond any read on a loaded machine: a read still waiting then waits for good. */
const HUNG_MS = 60_000;

let dir: string;
let stack: Stack;
let nc: NatsConnection;
let kv: KV;
let jsm: JetStreamManager;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evently-lease-members-'));
  stack = await startStack({
    dataDir: dir,
    services: { redis: false, postgres: false, mail: false },
    log: () => undefined,
  });
  nc = await connect({ servers: stack.natsUrl, user: 'supervisor', pass: stack.natsPasswords?.supervisor });
  kv = await nc.jetstream().views.kv(SHARD_LEASE_BUCKET, { ttl: TTL_MS, history: 1 });
  jsm = await nc.jetstreamManager();
});
after(async () => {
  await nc.close();
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

const member = (id: string): MemberValue => ({ id, host: 'test', pid: 1, startedAt: Date.now(), adminUrl: null });

async function readOrHang(): Promise<string[] | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), HUNG_MS);
  });
  try {
    const read = readMembers(jsm, kv).then((ms) => ms.map((m) => m.id).sort());
    return await Promise.race([read, hung]);
  } finally {
    clearTimeout(timer);
  }
}

test('when a member entry expires while the members are read, then every read answers and leaves it out once gone', async () => {
  const cycles = 20;
  let reads = 0;
  // "stays" renews like a live supervisor; "goes" is put once a cycle and expires, like one cut off.
  // When the last acknowledged renewal was sent: the entry was stored after that, so it lives until
  // at least then + TTL (the acknowledgement's own arrival can be late on a busy machine).
  let renewalSentAt = 0;
  const renewing = new AbortController();
  const renewals = (async () => {
    while (!renewing.signal.aborted) {
      const sent = Date.now();
      await kv.put(memberKey('stays'), JSON.stringify(member('stays')));
      renewalSentAt = sent;
      await sleep(TTL_MS / 8);
    }
  })();
  try {
    for (let cycle = 0; cycle < cycles; cycle++) {
      await kv.put(memberKey('goes'), JSON.stringify(member('goes')));
      const putAt = Date.now();
      let gone = false;
      // Four callers at once until the entry is gone: the window where a read used to hang.
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (!gone) {
            const alive = renewalSentAt + TTL_MS;
            const ids = await readOrHang();
            reads++;
            if (ids === 'hung') assert.fail(`a read made ${Date.now() - putAt} ms after the put never answered`);
            // Only a read answered while the renewed entry must still have been there has to list it.
            if (Date.now() < alive)
              assert.ok(ids.includes('stays'), `the renewed member is listed (${JSON.stringify(ids)})`);
            assert.ok(
              ids.every((id) => id === 'stays' || id === 'goes'),
              `only members that were put (${JSON.stringify(ids)})`,
            );
            if (!ids.includes('goes')) gone = true;
          }
        }),
      );
    }
  } finally {
    renewing.abort();
    await renewals;
  }
  assert.ok(reads > cycles, `${reads} reads over ${cycles} expiries`);
});
