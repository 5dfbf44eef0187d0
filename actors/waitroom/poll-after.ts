// When a polling client should ask for its ticket again (QueueTicket
// `pollAfterSeconds`, and `Retry-After` at the edge). Polls cost the edge and
// the room's thread the time admitted people need to book, so a client far
// back asks rarely and one near the front every second: a fifth of the
// estimated wait costs a late poll at most ~20% more wait. Before the draw the
// wait is until opensAt. The answer is a whole second drawn uniformly from
// [0.8·v, v] (rounded down at the low end, so even 2 s spreads over 1 and 2):
// thousands of clients told the same v do not all come back in the same second.
import type { QueueTicket } from '../../protocol/index.js';

export const POLL_MIN_SECONDS = 1;
export const POLL_MAX_SECONDS = 30;
/** Waiting, nothing measured yet (an adaptive room before its first admission). */
export const POLL_UNKNOWN_SECONDS = 2;
/** Share of the wait a client waits between polls. */
const SHARE_OF_WAIT = 1 / 5;
const JITTER = 0.2;

/** Seconds until the next poll; null when there is nothing more to wait for (admitted, expired, left). */
export function pollAfterSeconds(
  t: Pick<QueueTicket, 'state' | 'position' | 'estimatedWaitSeconds'>,
  random: () => number = Math.random,
): number | null {
  if (t.state !== 'waiting') return null;
  const due =
    t.estimatedWaitSeconds === null
      ? POLL_UNKNOWN_SECONDS
      : t.position === null
        ? t.estimatedWaitSeconds // the pre-queue: nothing moves until the draw at opensAt
        : t.estimatedWaitSeconds * SHARE_OF_WAIT;
  const v = Math.min(POLL_MAX_SECONDS, Math.max(POLL_MIN_SECONDS, Math.ceil(due)));
  const lo = Math.max(POLL_MIN_SECONDS, Math.floor(v * (1 - JITTER)));
  return lo + Math.floor(random() * (v - lo + 1));
}
