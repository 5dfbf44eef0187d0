// Hot-event batching. Requests for one event that arrive while that event's
// batch is running wait in its queue and go together into the next one.
// Nothing is delayed on purpose: an idle event runs a request at once, a hot
// one amortises its read and commit over everyone waiting.
//
// A request may come with a gate (the user's Redis booking lock being taken):
// it waits in the queue meanwhile, so the lock's round trip overlaps the
// batch ahead of it, but it joins a batch only once its gate has opened, and
// is answered with the gate's refusal instead if it does not.
import { refuse, type Booking, type Outcome } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import { VersionConflict } from '../../platform/event-row.js';
import { FencedError } from '../../platform/lease-deadlines.js';
import type { BookRequest } from './book.js';

type RunBatch = (eventId: string, reqs: readonly BookRequest[]) => Promise<Outcome<Booking>[]>;

/** Settles to null when the request may be decided, or to the refusal to answer it with; never rejects. */
export type Gate = Promise<Outcome<never> | null>;

interface Pending {
  req: BookRequest;
  resolve: (outcome: Outcome<Booking>) => void;
  gate: Gate;
  /** What the gate settled to; absent while it is still closed. */
  opened?: { refusal: Outcome<never> | null };
}

const OPEN: Gate = Promise.resolve(null);

export class BookingBatcher {
  private readonly queues = new Map<string, Pending[]>();

  constructor(
    private readonly run: RunBatch,
    private readonly maxBatch: number,
    private readonly log: Logger,
  ) {}

  /** Without a gate, the request may be decided at once. */
  submit(req: BookRequest, gate?: Gate): Promise<Outcome<Booking>> {
    return new Promise((resolve) => {
      const pending: Pending = gate
        ? {
            req,
            resolve,
            gate: gate.catch((err: unknown) => {
              this.log.error({ err, eventId: req.eventId }, 'booking gate failed');
              return unavailable();
            }),
          }
        : { req, resolve, gate: OPEN, opened: { refusal: null } };
      // Registered before anyone waits on the gate, so it has set `opened` by the time they wake.
      if (!pending.opened) void pending.gate.then((refusal) => (pending.opened = { refusal }));
      const queue = this.queues.get(req.eventId);
      if (queue) {
        queue.push(pending);
        return;
      }
      const fresh = [pending];
      this.queues.set(req.eventId, fresh);
      void this.drain(req.eventId, fresh);
    });
  }

  private async drain(eventId: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      const batch = this.takeOpen(queue);
      if (batch.length === 0) {
        if (queue.length > 0) await Promise.race(queue.map((p) => p.gate));
        continue;
      }
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

  /** Takes the requests whose gate opened, in arrival order, up to the batch maximum; answers those it refused. */
  private takeOpen(queue: Pending[]): Pending[] {
    const batch: Pending[] = [];
    for (let i = 0; i < queue.length && batch.length < this.maxBatch;) {
      const pending = queue[i];
      if (!pending?.opened) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      if (pending.opened.refusal) pending.resolve(pending.opened.refusal);
      else batch.push(pending);
    }
    return batch;
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

const unavailable = (): Outcome<never> =>
  refuse('UNAVAILABLE', 'booking could not be completed; retry with the same Idempotency-Key');
