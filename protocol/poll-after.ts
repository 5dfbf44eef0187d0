// When a polling client should ask for its ticket again (QueueTicket
// `pollAfterSeconds`, and `Retry-After` at the edge). In the contract because
// both sides answer polls: the room's actor, and an edge following the room.
// Polls cost the edge and the room's thread the time admitted people need to
// book, so a client far back asks rarely and one near the front every second:
// a fifth of the estimated wait costs a late poll at most ~20% more wait. The
// answer is a whole second drawn uniformly from [0.8·v, v] (rounded down at
// the low end, so even 2 s spreads over 1 and 2): thousands of clients told
// the same v do not all come back in the same second.
//
// The pre-queue is the exception. Nobody's place is known before the draw at
// opensAt, and everyone joined for the same moment. Told "at opensAt" (with
// the jitter above, a little before), the whole crowd asked again and again
// in the last seconds and all together after them: in a 20,000-people bench
// sale the pollers made 50% more polls and the booking p99 went from ~0.2 s
// to over 1 s. Spread uniformly over the 20 s after opensAt, the 15,000
// pollers still came at 750/s while the first admitted people booked. A
// pre-queue ticket is now told to come back once, after the draw, in join
// order at PREQUEUE_POLLS_PER_SECOND: the k-th joiner k / that many seconds
// after opensAt. Their places are drawn at random, so the order of asking
// gives nobody a better place; a client on /ws learns at once anyway. At 250
// a second, 15,000 pollers took a minute: people admitted early learned it
// tens of seconds late and booked together in the sale's peak.
import type { QueueTicket } from './schemas/waitroom.js';

export const POLL_MIN_SECONDS = 1;
export const POLL_MAX_SECONDS = 60;
/** Waiting, nothing measured yet (an adaptive room before its first admission). */
export const POLL_UNKNOWN_SECONDS = 2;
/** The pre-queue's first polls after the draw: this many a second, in join order. */
export const PREQUEUE_POLLS_PER_SECOND = 1000;
/** Share of the wait a client waits between polls. */
const SHARE_OF_WAIT = 1 / 5;
const JITTER = 0.2;

/**
 * The honest wait: the place over the measured admission rate, null while nothing is measured. The room's
 * actor and an edge answering a poll both give it, so it is worked out here once.
 */
export const estimateSeconds = (position: number, perSecond: number): number | null =>
  perSecond > 0 ? Math.ceil(position / perSecond) : null;

/** Seconds until the next poll; null when there is nothing more to wait for (admitted, expired, left). */
export function pollAfterSeconds(
  t: Pick<QueueTicket, 'state' | 'position' | 'estimatedWaitSeconds'> & {
    /** In the pre-queue: the ticket's place in join order (1 = first to join). */
    joinOrder?: number;
  },
  random: () => number = Math.random,
): number | null {
  if (t.state !== 'waiting') return null;
  if (t.position === null && t.estimatedWaitSeconds !== null) {
    // The pre-queue: the estimate is the time until opensAt.
    const open = Math.max(0, Math.ceil(t.estimatedWaitSeconds));
    const turn = open + 1 + Math.floor(Math.max(0, (t.joinOrder ?? 1) - 1) / PREQUEUE_POLLS_PER_SECOND);
    // Beyond the longest interval: ask again before then, and be told the turn when it is near.
    return turn <= POLL_MAX_SECONDS ? turn : spread(POLL_MAX_SECONDS, random);
  }
  return spread(
    t.estimatedWaitSeconds === null ? POLL_UNKNOWN_SECONDS : t.estimatedWaitSeconds * SHARE_OF_WAIT,
    random,
  );
}

/** v clamped to [min, max], then drawn from [0.8·v, v]. */
function spread(due: number, random: () => number): number {
  const v = Math.min(POLL_MAX_SECONDS, Math.max(POLL_MIN_SECONDS, Math.ceil(due)));
  const lo = Math.max(POLL_MIN_SECONDS, Math.floor(v * (1 - JITTER)));
  return lo + Math.floor(random() * (v - lo + 1));
}
