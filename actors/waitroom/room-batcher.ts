// Requests of one room arriving together are served as one batch: a flash
// sale's crowd joins in the same seconds (one row lock plus one multi-row
// insert per batch is what lets 20,000 joins fit in ten seconds) and polls its
// tickets all through the sale (one query and one Redis pipeline per batch
// instead of one each). While a batch of a room is in flight, the next one
// gathers.
import type { Logger } from '../../platform/logger.js';

type Run<R> = (eventId: string, userIds: readonly string[]) => Promise<Map<string, R> | undefined>;

interface Waiter<R> {
  userId: string;
  resolve: (r: R | undefined) => void;
  reject: (err: unknown) => void;
}

export class RoomBatcher<R> {
  private readonly waiting = new Map<string, Waiter<R>[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly run: Run<R>,
    private readonly max: number,
    private readonly log: Logger,
    /** What a batch does, for the log line of one that failed. */
    private readonly what = 'join',
  ) {}

  /** The user's result, or undefined when the room does not exist. */
  submit(eventId: string, userId: string): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(eventId) ?? [];
      list.push({ userId, resolve, reject });
      this.waiting.set(eventId, list);
      if (!this.busy.has(eventId)) void this.flush(eventId);
    });
  }

  /** Runs batches of the room until nobody is waiting; a loop, so a long busy spell builds no promise chain. */
  private async flush(eventId: string): Promise<void> {
    this.busy.add(eventId);
    try {
      for (;;) {
        const list = this.waiting.get(eventId);
        if (!list || list.length === 0) return;
        const batch = list.splice(0, this.max);
        try {
          // A user twice in one batch is served once; both get the same result.
          const result = await this.run(eventId, [...new Set(batch.map((w) => w.userId))]);
          for (const w of batch) w.resolve(result?.get(w.userId));
        } catch (err) {
          this.log.error({ err, eventId, size: batch.length }, `${this.what} batch failed`);
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.busy.delete(eventId);
      this.waiting.delete(eventId);
    }
  }
}
