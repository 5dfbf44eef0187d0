// The pre-queue draw: a Fisher–Yates shuffle driven by a seeded generator, so
// that an operator holding the logged seed and the input order (tickets by
// join rank) can replay the draw and get the same order. The generator is
// SHA-256 in counter mode; each index is drawn by rejection sampling, so no
// index is favoured by a modulo bias. Uniform over all n! orders.
import { createHash, randomBytes } from 'node:crypto';

export const newSeed = (): string => randomBytes(32).toString('hex');

/** A stream of uniform 32-bit integers from the seed. */
function* words(seed: string): Generator<number> {
  for (let block = 0; ; block++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(block);
    const digest = createHash('sha256').update(seed).update(counter).digest();
    for (let i = 0; i < digest.length; i += 4) yield digest.readUInt32BE(i);
  }
}

const SPAN = 2 ** 32;

/** A uniform integer in [0, bound) from the stream, rejecting the biased tail. */
function below(stream: Generator<number>, bound: number): number {
  const limit = Math.floor(SPAN / bound) * bound;
  for (;;) {
    const x = stream.next().value as number;
    if (x < limit) return x % bound;
  }
}

/** A new array: `items` in the order the seed draws. */
export function seededShuffle<T>(items: readonly T[], seed: string): T[] {
  const out = [...items];
  const stream = words(seed);
  for (let i = out.length - 1; i > 0; i--) {
    swap(out, i, below(stream, i + 1));
  }
  return out;
}

/** Both places are in range (i < a.length, j <= i), so neither read is a hole: the casts only drop `undefined`. */
function swap<T>(a: T[], i: number, j: number): void {
  const held = a[i] as T;
  a[i] = a[j] as T;
  a[j] = held;
}

/** A short fingerprint of an order, logged with the seed so a replay can be compared. */
export const digestOf = (ids: readonly string[]): string =>
  createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 16);

/** Uniformity check: chi-square of item-by-place counts over `runs` fresh seeds; df = (n-1)². */
export function positionChiSquare(n: number, runs: number): { chi2: number; df: number } {
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  // Shuffling the rows themselves: the row drawn to place `pos` is the item that landed there.
  for (let r = 0; r < runs; r++)
    seededShuffle(counts, newSeed()).forEach((row, pos) => {
      row[pos] = (row[pos] ?? 0) + 1;
    });
  const expected = runs / n;
  let chi2 = 0;
  for (const row of counts) for (const c of row) chi2 += (c - expected) ** 2 / expected;
  return { chi2, df: (n - 1) * (n - 1) };
}
