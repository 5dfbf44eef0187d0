// Placement: which of the shards this supervisor holds each thread of a pool
// serves. Every held shard goes to exactly one thread; a thread that is
// replaced keeps its slot, so its shards move with it to the new thread.
export function planShards(held: readonly number[], threads: number): number[][] {
  const plan: number[][] = Array.from({ length: threads }, () => []);
  [...held].sort((a, b) => a - b).forEach((shard, i) => plan[i % threads].push(shard));
  return plan;
}

export const allShards = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

export const sameShards = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((shard, i) => shard === b[i]);
