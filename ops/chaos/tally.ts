// One row of the chaos table: what the clients were told (their 201s, their
// failed attempts) against what the bookings table holds afterwards.
//   lost     a 201 whose booking is not confirmed in the table
//   doubled  a confirmed booking of the event that no client got a 201 for
//            (a retry that booked a second time)
//   oversold confirmed seats beyond the capacity, or a ledger that does not add up
// Recovery: from the fault's start to its last failed attempt (5xx or no
// answer), 0 if none failed; "never" if no booking succeeded after the fault.
import type pg from 'pg';
import { readSeatLedger, type SeatLedger } from '../../actors/inventory/ledger.js';
import type { StreamResult } from '../load/booking-stream.js';

export interface FaultWindow {
  startedAt: number;
  endedAt: number;
}

export interface FaultRow {
  fault: string;
  requests: number;
  created: number;
  failed: number;
  unanswered: number;
  lost: number;
  doubled: number;
  oversold: number;
  /** The fault itself: a server down and up again, a partition held. */
  faultMs: number;
  recoveryMs: number | null;
  ledger: SeatLedger;
  /** Everything held: nothing lost, doubled or oversold, every client answered, the ledger adds up. */
  ok: boolean;
  notes: string[];
}

export async function tallySale(
  db: pg.Pool,
  eventId: string,
  fault: string,
  sale: StreamResult,
  window: FaultWindow,
  notes: string[] = [],
): Promise<FaultRow> {
  const ledger = await readSeatLedger(db, eventId);
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM bookings WHERE event_id = $1 AND status = 'confirmed'`,
    [eventId],
  );
  const stored = new Set(rows.map((r) => r.id));
  const told = new Set(sale.created);
  const lost = [...told].filter((id) => !stored.has(id)).length + (sale.created.length - told.size);
  const doubled = [...stored].filter((id) => !told.has(id)).length;
  const oversold = Math.max(0, ledger.confirmed - ledger.capacity);
  const succeededAfter = sale.createdAt.some((at) => at > window.startedAt);
  const lastFailure = Math.max(window.startedAt, ...sale.failedAt);
  const row = {
    fault,
    requests: sale.attempts,
    created: sale.created.length,
    failed: sale.failed,
    unanswered: sale.unanswered,
    lost,
    doubled,
    oversold,
    faultMs: window.endedAt - window.startedAt,
    recoveryMs: succeededAfter ? lastFailure - window.startedAt : null,
    ledger,
    notes,
  };
  return { ...row, ok: lost === 0 && doubled === 0 && oversold === 0 && sale.unanswered === 0 && ledger.ok };
}

const ms = (v: number | null) => (v === null ? 'never' : `${(v / 1000).toFixed(1)} s`);

export function faultTable(rows: readonly FaultRow[]): string {
  const lines = [
    '| fault | requests | 201s | 5xx / no answer | unanswered | lost | doubled | oversold | fault lasted | recovery |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.fault} | ${r.requests} | ${r.created} | ${r.failed} | ${r.unanswered} | ${r.lost} | ${r.doubled} | ` +
        `${r.oversold}${r.ledger.ok ? '' : ' (ledger off)'} | ${ms(r.faultMs)} | ${ms(r.recoveryMs)} |`,
    );
  }
  return lines.join('\n');
}
