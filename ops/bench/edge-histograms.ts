// Server-side latency from an edge's GET /metrics: a histogram's cumulative
// buckets read before and after a window, and a quantile of what was observed
// in between (the upper bound of the bucket it falls in; Infinity past the
// last finite bucket). Lets a benchmark tell time spent in the edge and the
// actors from time spent queued in front of them or in the client.

/** le (seconds) → cumulative count, summed over the series whose labels match. */
export type Buckets = Map<number, number>;

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * GET /metrics, once more on a network error: a sale can leave the bench's keep-alive connection idle
 * for about the edge's keep-alive timeout (72 s), and a request sent as the edge closes it is reset.
 */
async function metricsText(url: string): Promise<string> {
  try {
    return await (await fetch(`${url}/metrics`)).text();
  } catch {
    return (await fetch(`${url}/metrics`)).text();
  }
}

export async function readHistogram(url: string, name: string, labels: Record<string, string>): Promise<Buckets> {
  const text = await metricsText(url);
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const close = line.lastIndexOf('}');
    const found = new Map([...line.slice(0, close).matchAll(LABEL)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).some(([k, v]) => found.get(k) !== v)) continue;
    const le = found.get('le') === '+Inf' ? Infinity : Number(found.get('le'));
    out.set(le, (out.get(le) ?? 0) + Number(line.slice(close + 1)));
  }
  return out;
}

/** The q-quantile (0..1) of the observations between two reads, in seconds; NaN when there were none. */
export function quantileBetween(before: Buckets, after: Buckets, q: number): number {
  const les = [...after.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return Number.NaN;
  const i = counts.findIndex((c) => c >= q * total);
  return les[i] ?? Infinity;
}

export function countBetween(before: Buckets, after: Buckets): number {
  return (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
}
