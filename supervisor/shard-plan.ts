// Placement: which of the shards this supervisor holds each thread of a pool
// serves. Every held shard goes to exactly one thread; a thread that is
// replaced keeps its slot, so its shards move with it to the new thread.
export function planShards(held: readonly number[], threads: number): number[][] {
  const sorted = [...held].sort((a, b) => a - b);
  return Array.from({ length: threads }, (_, thread) => sorted.filter((_, i) => i % threads === thread));
}

export const allShards = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

export const sameShards = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((shard, i) => shard === b[i]);
