// The shard function is a frozen wire contract: every edge and every actor must
// map an event id to the same shard, and changing it reshuffles ownership of
// every event. FNV-1a (32-bit) over the canonical lower-case UUID text.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function shardOf(eventId: string, shards: number): number {
  const id = eventId.toLowerCase();
  let hash = FNV_OFFSET;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash % shards;
}
