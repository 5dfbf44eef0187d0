// Hot-event batching. Requests for one event that arrive while that event's
// transaction is running wait in its queue and go together into the next
// one. Nothing is delayed on purpose: an idle event runs a request at once,
// a hot one amortises its read and commit over everyone waiting.
import { refuse, type Booking, type Outcome } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import { VersionConflict } from '../../platform/event-row.js';
import { FencedError } from '../../platform/lease-deadlines.js';
import type { BookRequest } from './book.js';

type RunBatch = (eventId: string, reqs: readonly BookRequest[]) => Promise<Outcome<Booking>[]>;

interface Pending {
  req: BookRequest;
  resolve: (outcome: Outcome<Booking>) => void;
}

export class BookingBatcher {
  private readonly queues = new Map<string, Pending[]>();

  constructor(
    private readonly run: RunBatch,
    private readonly maxBatch: number,
    private readonly log: Logger,
  ) {}

  submit(req: BookRequest): Promise<Outcome<Booking>> {
    return new Promise((resolve) => {
      const queue = this.queues.get(req.eventId);
      if (queue) {
        queue.push({ req, resolve });
        return;
      }
      const fresh = [{ req, resolve }];
      this.queues.set(req.eventId, fresh);
      void this.drain(req.eventId, fresh);
    });
  }

  private async drain(eventId: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      const outcomes = await runSafely(
        this.run,
        eventId,
        batch.map((p) => p.req),
        this.log,
      );
      batch.forEach((p, i) => p.resolve(outcomes[i] ?? unavailable()));
    }
    this.queues.delete(eventId);
  }
}

/**
 * Runs a batch; a version conflict runs it again, and any other failure of a
 * batch of several runs each request alone so that one bad request cannot
 * fail its neighbours. What still fails is answered UNAVAILABLE (retryable):
 * its transaction rolled back, so a retry with the same key is safe.
 */
export async function runSafely(
  run: RunBatch,
  eventId: string,
  reqs: readonly BookRequest[],
  log: Logger,
): Promise<Outcome<Booking>[]> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await run(eventId, reqs);
    } catch (err) {
      if (err instanceof VersionConflict) continue;
      // The shard's lease ran out: no request of the batch can commit here any more.
      if (err instanceof FencedError) break;
      log.error({ err, eventId, size: reqs.length }, 'booking batch failed');
      if (reqs.length === 1) break;
      return Promise.all(reqs.map((r) => runOneSafely(run, eventId, r, log)));
    }
  }
  return reqs.map(unavailable);
}

/** One request alone, as runSafely runs a batch; a run that answers nothing is answered UNAVAILABLE. */
export async function runOneSafely(
  run: RunBatch,
  eventId: string,
  req: BookRequest,
  log: Logger,
): Promise<Outcome<Booking>> {
  const [outcome] = await runSafely(run, eventId, [req], log);
  return outcome ?? unavailable();
}

const unavailable = (): Outcome<Booking> =>
  refuse('UNAVAILABLE', 'booking could not be completed; retry with the same Idempotency-Key');
