// Twenty gates at one door: while one statement for an event's scans is in
// flight, the scans that arrive wait and then go together, in one statement
// (one round trip, one commit) instead of one each. This is the actor
// design's advantage at the door, as the booking batcher's is at the sale.
// Exactly-once still rests on the checkins primary key; within a batch, the
// first scan of a ticket is the one inserted and later ones lose to it.
import type { Pool } from 'pg';
import { ok, refuse, ticketIdOf, type CheckinResult, type Outcome } from '../../protocol/index.js';
import { expectRow } from '../../platform/expect-row.js';
import type { ScanInput } from './scans.js';

interface Pending {
  input: ScanInput;
  ticketId: string;
  resolve: (o: Outcome<CheckinResult>) => void;
  reject: (e: unknown) => void;
}
interface Row {
  n: string;
  status: string | null;
  quantity: number | null;
  event_status: string | null;
  won_at: Date | null;
  won_gate: string | null;
}

const MAX_BATCH = 500;

const BATCH = `
  WITH input AS (
    SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::uuid[]) WITH ORDINALITY AS i(booking_id, ticket_id, seq, gate, staff_id, n)),
  b AS (
    SELECT i.*, bk.status, bk.quantity, e.status AS event_status
      FROM input i LEFT JOIN bookings bk ON bk.id = i.booking_id AND bk.event_id = $1 LEFT JOIN events e ON e.id = bk.event_id),
  ins AS (
    INSERT INTO checkins (ticket_id, event_id, booking_id, seq, gate, scanned_at, staff_id)
    SELECT ticket_id, $1, booking_id, seq, gate, now(), staff_id FROM b
     WHERE status = 'confirmed' AND event_status <> 'cancelled' AND seq < quantity
    ON CONFLICT (ticket_id) DO NOTHING
    RETURNING ticket_id, scanned_at, gate)
  SELECT b.n, b.status, b.quantity, b.event_status, ins.scanned_at AS won_at, ins.gate AS won_gate
    FROM b LEFT JOIN ins ON ins.ticket_id = b.ticket_id ORDER BY b.n`;

export class ScanBatcher {
  private readonly waiting = new Map<string, Pending[]>();
  private readonly running = new Set<string>();

  constructor(private readonly pool: Pool) {}

  /** An online scan (scanned now); answers like scanTicket. */
  submit(input: ScanInput): Promise<Outcome<CheckinResult>> {
    const eventId = input.claims.eventId;
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(eventId) ?? [];
      queue.push({ input, ticketId: ticketIdOf(input.claims.bookingId, input.claims.seq), resolve, reject });
      this.waiting.set(eventId, queue);
      if (!this.running.has(eventId)) void this.drain(eventId);
    });
  }

  private async drain(eventId: string): Promise<void> {
    this.running.add(eventId);
    try {
      for (let queue = this.waiting.get(eventId); queue?.length; queue = this.waiting.get(eventId)) {
        const batch = queue.splice(0, MAX_BATCH);
        if (queue.length === 0) this.waiting.delete(eventId);
        await this.run(eventId, batch).catch((err: unknown) => {
          for (const p of batch) p.reject(err);
        });
      }
    } finally {
      this.running.delete(eventId);
    }
  }

  private async run(eventId: string, batch: Pending[]): Promise<void> {
    // One ticket twice in a batch: only its first scan goes to the insert; the others lose to it below.
    const first = new Map<string, Pending>();
    for (const p of batch) if (!first.has(p.ticketId)) first.set(p.ticketId, p);
    const sent = [...first.values()];
    const { rows } = await this.pool.query<Row>({
      name: 'checkin.scan-batch',
      text: BATCH,
      values: [
        eventId,
        sent.map((p) => p.input.claims.bookingId),
        sent.map((p) => p.ticketId),
        sent.map((p) => p.input.claims.seq),
        sent.map((p) => p.input.gate),
        sent.map((p) => p.input.staffId),
      ],
    });
    const answers = new Map<string, Row>(
      rows.map((r) => [expectRow(sent[Number(r.n) - 1], 'checkin.scan-batch ordinality').ticketId, r]),
    );
    const lost = batch
      .filter((p) => !answers.get(p.ticketId)?.won_at || first.get(p.ticketId) !== p)
      .map((p) => p.ticketId);
    const firstScans = new Map<string, { scanned_at: Date; gate: string }>();
    if (lost.length > 0) {
      const read = await this.pool.query<{ ticket_id: string; scanned_at: Date; gate: string }>({
        name: 'checkin.first-scans',
        text: 'SELECT ticket_id, scanned_at, gate FROM checkins WHERE ticket_id = ANY($1::uuid[])',
        values: [lost],
      });
      for (const r of read.rows) firstScans.set(r.ticket_id, r);
    }
    for (const p of batch) {
      const row = answers.get(p.ticketId);
      const won = first.get(p.ticketId) === p ? row?.won_at : null;
      p.resolve(
        this.answer(p, row, won ? { scanned_at: won, gate: row!.won_gate! } : undefined, firstScans.get(p.ticketId)),
      );
    }
  }

  private answer(
    p: Pending,
    row: Row | undefined,
    won: { scanned_at: Date; gate: string } | undefined,
    firstScan: { scanned_at: Date; gate: string } | undefined,
  ): Outcome<CheckinResult> {
    const { claims, code } = p.input;
    if (!row?.status || row.quantity === null || claims.seq >= row.quantity)
      return refuse('INVALID_TICKET', 'the code names no ticket');
    if (row.status !== 'confirmed' || row.event_status === 'cancelled') {
      return refuse(
        'TICKET_REVOKED',
        row.event_status === 'cancelled' ? 'the event was cancelled' : 'the booking was cancelled',
      );
    }
    if (won) {
      return ok({
        result: 'ok' as const,
        ticket: {
          id: p.ticketId,
          bookingId: claims.bookingId,
          eventId: claims.eventId,
          seq: claims.seq,
          code,
          status: 'checked_in' as const,
          checkedInAt: won.scanned_at.toISOString(),
          gate: won.gate,
        },
      });
    }
    return refuse(
      'ALREADY_CHECKED_IN',
      `checked in at ${firstScan?.scanned_at.toISOString() ?? 'an earlier time'} at gate ${firstScan?.gate ?? 'unknown'}`,
    );
  }
}
