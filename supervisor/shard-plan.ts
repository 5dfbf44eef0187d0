// Placement: which shards each thread of a pool serves. Every shard goes to
// exactly one thread; a thread that is replaced keeps its slot, so its shards
// move with it to the new thread.
export function planShards(shards: number, threads: number): number[][] {
  const plan: number[][] = Array.from({ length: threads }, () => []);
  for (let shard = 0; shard < shards; shard++) plan[shard % threads].push(shard);
  return plan;
}
