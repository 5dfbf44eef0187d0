// CSV export of an event's bookings: a database cursor (pg-query-stream)
// read a batch at a time, cut into chunks, sent to the reader's inbox only
// as fast as the reader credits them (see protocol/analytics-export.ts). A
// paused download pauses the cursor, so memory stays at a few chunks and a
// cursor batch, however many rows the event has.
import { Compile } from 'typebox/compile';
import { createInbox, headers, type NatsConnection, type Subscription } from 'nats';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import {
  EXPORT_CHUNK_BYTES,
  EXPORT_IDLE_MS,
  ExportCredit,
  ExportHeaders,
  ok,
  refuse,
  type ExportBookings,
  type ExportStarted,
  type Outcome,
} from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import { csvLine } from './csv.js';

export const BOOKING_CSV_COLUMNS = [
  'bookingId',
  'userId',
  'email',
  'name',
  'quantity',
  'unitPrice',
  'totalPrice',
  'currency',
  'status',
  'createdAt',
  'cancelledAt',
] as const;
const BOOKINGS = `SELECT b.id, b.user_id, u.email, u.name, b.quantity, b.unit_price, b.total_price, b.currency, b.status, b.created_at, b.cancelled_at
  FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.event_id = $1 ORDER BY b.created_at, b.id`;
/** Rows per cursor fetch. */
const BATCH_ROWS = 500;
/** Exports one thread streams at once; each holds a database connection while the download lasts. */
const MAX_EXPORTS = 4;

interface BookingRow {
  id: string;
  user_id: string;
  email: string;
  name: string;
  quantity: number;
  unit_price: number;
  total_price: number;
  currency: string;
  status: string;
  created_at: Date;
  cancelled_at: Date | null;
}

const validCredit = Compile(ExportCredit);

class Stopped extends Error {}

/** The reader's credit: how many chunks it has consumed, and whether it still wants the rest. */
class Credit {
  readonly subject = createInbox();
  private acked = 0;
  private stopped: string | undefined;
  private wake: (() => void) | undefined;
  private readonly sub: Subscription;

  constructor(
    nc: NatsConnection,
    private readonly window: number,
  ) {
    this.sub = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        let credit: unknown;
        try {
          credit = err ? undefined : msg.json();
        } catch {
          credit = undefined;
        }
        if (!validCredit.Check(credit)) return;
        if (credit.cancel) this.stop('the reader cancelled');
        this.acked = Math.max(this.acked, credit.acked);
        this.wake?.();
      },
    });
  }

  stop(reason: string): void {
    this.stopped ??= reason;
    this.wake?.();
  }

  /** Resolves when chunk `seq` may be sent. */
  async until(seq: number): Promise<void> {
    while (!this.stopped && seq > this.acked + this.window) {
      const moved = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), EXPORT_IDLE_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!moved) this.stop(`no credit from the reader for ${EXPORT_IDLE_MS} ms`);
    }
    if (this.stopped) throw new Stopped(this.stopped);
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

export class CsvExports {
  private readonly running = new Map<Credit, Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  async start(req: ExportBookings): Promise<Outcome<ExportStarted>> {
    if (this.running.size >= MAX_EXPORTS)
      return refuse('UNAVAILABLE', 'too many exports are running; try again shortly');
    const { rowCount } = await this.pool.query('SELECT 1 FROM events WHERE id = $1', [req.eventId]);
    if (rowCount === 0) return refuse('NOT_FOUND', 'event not found');
    const credit = new Credit(this.nc, req.window);
    const pumping = this.pump(req, credit).finally(() => {
      credit.close();
      this.running.delete(credit);
    });
    this.running.set(credit, pumping);
    return ok({ creditSubject: credit.subject });
  }

  private async pump(req: ExportBookings, credit: Credit): Promise<void> {
    let seq = 0;
    let rows = 0;
    const send = async (body: string) => {
      await credit.until(++seq);
      const h = headers();
      h.set(ExportHeaders.seq, String(seq));
      this.nc.publish(req.inbox, body, { headers: h });
    };
    const finish = (header: string, value: string) => {
      const h = headers();
      h.set(header, value);
      this.nc.publish(req.inbox, '', { headers: h });
    };
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await this.pool.connect();
      const stream = client.query(new QueryStream(BOOKINGS, [req.eventId], { batchSize: BATCH_ROWS }));
      let chunk = csvLine(BOOKING_CSV_COLUMNS);
      for await (const r of stream as AsyncIterable<BookingRow>) {
        chunk += csvLine([
          r.id,
          r.user_id,
          r.email,
          r.name,
          r.quantity,
          r.unit_price,
          r.total_price,
          r.currency,
          r.status,
          r.created_at.toISOString(),
          r.cancelled_at?.toISOString() ?? null,
        ]);
        rows += 1;
        if (chunk.length >= EXPORT_CHUNK_BYTES) {
          await send(chunk);
          chunk = '';
        }
      }
      if (chunk) await send(chunk);
      finish(ExportHeaders.end, String(rows));
    } catch (err) {
      // A connection left mid-cursor is not reused.
      broken = err as Error;
      if (!(err instanceof Stopped)) this.log.warn({ err, eventId: req.eventId, rows }, 'bookings export failed');
      finish(ExportHeaders.error, err instanceof Stopped ? err.message : 'the export failed; it has been logged');
    } finally {
      client?.release(broken);
    }
  }

  /** Stops every running export (their readers see an error) and waits for them. */
  async stop(): Promise<void> {
    for (const credit of this.running.keys()) credit.stop('the analytics actor is stopping');
    await Promise.all(this.running.values());
  }
}
