// A stream of bookings from many users, each retrying as docs/api.md allows (5xx,
// timeouts and BOOKING_IN_PROGRESS, with the same Idempotency-Key), so that
// operations on the supervisors can be tried under load and the outcome
// checked against the database afterwards.
import { setTimeout as sleep } from 'node:timers/promises';

export interface StreamUser {
  token: string;
}

export interface StreamResult {
  /** Booking ids of every 201. */
  created: string[];
  /** Final answers other than 201, by status and code. */
  refused: Map<string, number>;
  /** Attempts that got a retryable answer (5xx, no answer, BOOKING_IN_PROGRESS) before the final one. */
  retried: number;
  /** Orders that never got a final answer within their attempts. */
  unanswered: number;
  /** Orders placed (each ends in created, refused or unanswered). */
  ordered: number;
  /** 5xx answers and requests that got no answer, counted per attempt. */
  failed: number;
  /** Every attempt, answered or not. */
  attempts: number;
  /** When (Date.now()) each 201 and each failed attempt was answered, for recovery times. */
  createdAt: number[];
  failedAt: number[];
}

export interface StreamOptions {
  url: string;
  eventId: string;
  users: readonly StreamUser[];
  /** Bookings each user makes, one after another. */
  perUser: number;
  /** Pause between one user's bookings, so the stream lasts. */
  pauseMs: number;
  label: string;
  /** If given, users stop placing new orders once it settles (perUser stays the cap): the stream lasts as long as an operation. */
  until?: Promise<unknown>;
  /** If given, filled in as the stream goes, so a caller can wait for a state (first bookings) mid-stream. */
  result?: StreamResult;
}

export const emptyStreamResult = (): StreamResult => ({
  created: [],
  refused: new Map(),
  retried: 0,
  unanswered: 0,
  ordered: 0,
  failed: 0,
  attempts: 0,
  createdAt: [],
  failedAt: [],
});

const RETRYABLE = new Set([0, 500, 502, 503, 504]);

export async function bookingStream(o: StreamOptions): Promise<StreamResult> {
  const result = o.result ?? emptyStreamResult();
  let over = false;
  void o.until?.finally(() => {
    over = true;
  });
  const order = async (user: StreamUser, key: string): Promise<void> => {
    result.ordered++;
    for (let attempt = 0; attempt < 100; attempt++) {
      let status = 0;
      let body: { id?: string; code?: string } = {};
      try {
        const res = await fetch(`${o.url}/v1/events/${o.eventId}/bookings`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${user.token}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify({ quantity: 1 }),
        });
        status = res.status;
        body = (await res.json()) as typeof body;
      } catch {
        /* no answer: retry */
      }
      result.attempts++;
      if (status === 0 || status >= 500) {
        result.failed++;
        result.failedAt.push(Date.now());
      }
      if (status === 201 && body.id) {
        result.created.push(body.id);
        result.createdAt.push(Date.now());
        return;
      }
      if (!RETRYABLE.has(status) && body.code !== 'BOOKING_IN_PROGRESS') {
        const why = `${status} ${body.code ?? ''}`.trim();
        result.refused.set(why, (result.refused.get(why) ?? 0) + 1);
        return;
      }
      result.retried++;
      await sleep(100);
    }
    result.unanswered++;
  };
  await Promise.all(
    o.users.map(async (user, u) => {
      for (let i = 0; i < o.perUser && !over; i++) {
        await order(user, `${o.label}-${u}-${i}`);
        await sleep(o.pauseMs);
      }
    }),
  );
  return result;
}
