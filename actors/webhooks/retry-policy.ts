// When a failed delivery is tried again: base × 2^(attempt − 1), capped, with
// "equal jitter" (half fixed, half random) so endpoints that failed together
// do not all come back in the same instant. Past the retry window (at least
// 24 h by default, measured from the first attempt) a failure is final.
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  windowMs: number;
}

/** The wait before the next attempt, or null when the delivery is dead. */
export function nextRetryMs(
  policy: RetryPolicy,
  attempts: number,
  firstAttemptAt: Date,
  now = Date.now(),
  random = Math.random,
): number | null {
  if (now - firstAttemptAt.getTime() >= policy.windowMs) return null;
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(exp / 2 + random() * (exp / 2));
}
