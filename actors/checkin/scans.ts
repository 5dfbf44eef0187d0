// One scan at the door, in one statement: read the booking, and insert the
// check-in unless the ticket has one. The checkins primary key is what makes
// "exactly once" hold when two gates scan one ticket in the same
// millisecond: one insert wins, the other finds the row and answers
// ALREADY_CHECKED_IN with the winner's time and gate. An uploaded (offline)
// scan may replace a later one: the earliest scannedAt wins.
import type { Pool } from 'pg';
import { ok, refuse, ticketIdOf, type CheckinResult, type Outcome, type TicketClaims } from '../../protocol/index.js';

export interface ScanInput {
  claims: TicketClaims;
  code: string;
  gate: string;
  /** Null for an online scan: the database's now. */
  scannedAt: string | null;
  staffId: string | null;
  /** Offline uploads: an earlier scan replaces a later recorded one. */
  earliestWins: boolean;
}

interface Row {
  status: string;
  quantity: number;
  event_status: string;
  won_at: Date | null;
  won_gate: string | null;
}

const SCAN = `
  WITH b AS (
    SELECT b.status, b.quantity, e.status AS event_status
      FROM bookings b JOIN events e ON e.id = b.event_id
     WHERE b.id = $1 AND b.event_id = $2),
  ins AS (
    INSERT INTO checkins (ticket_id, event_id, booking_id, seq, gate, scanned_at, staff_id)
    SELECT $3, $2, $1, $4, $5, coalesce($6::timestamptz, now()), $7 FROM b
     WHERE b.status = 'confirmed' AND b.event_status <> 'cancelled' AND $4 < b.quantity
    ON CONFLICT (ticket_id) DO UPDATE SET scanned_at = excluded.scanned_at, gate = excluded.gate, staff_id = excluded.staff_id
     WHERE $8::boolean AND checkins.scanned_at > excluded.scanned_at
    RETURNING scanned_at, gate)
  SELECT b.status, b.quantity, b.event_status, ins.scanned_at AS won_at, ins.gate AS won_gate FROM b LEFT JOIN ins ON true`;

export async function scanTicket(pool: Pool, input: ScanInput): Promise<Outcome<CheckinResult>> {
  const { claims } = input;
  const ticketId = ticketIdOf(claims.bookingId, claims.seq);
  const {
    rows: [row],
  } = await pool.query<Row>({
    name: 'checkin.scan',
    text: SCAN,
    values: [
      claims.bookingId,
      claims.eventId,
      ticketId,
      claims.seq,
      input.gate,
      input.scannedAt,
      input.staffId,
      input.earliestWins,
    ],
  });
  if (!row || claims.seq >= row.quantity) return refuse('INVALID_TICKET', 'the code names no ticket');
  if (row.status !== 'confirmed' || row.event_status === 'cancelled') {
    return refuse(
      'TICKET_REVOKED',
      row.event_status === 'cancelled' ? 'the event was cancelled' : 'the booking was cancelled',
    );
  }
  const ticket = {
    id: ticketId,
    bookingId: claims.bookingId,
    eventId: claims.eventId,
    seq: claims.seq,
    code: input.code,
    status: 'checked_in' as const,
  };
  if (row.won_at)
    return ok({
      result: 'ok' as const,
      ticket: { ...ticket, checkedInAt: row.won_at.toISOString(), gate: row.won_gate },
    });
  // Lost: the row exists (it may have been committed after this statement's snapshot, so read it anew).
  const {
    rows: [first],
  } = await pool.query<{ scanned_at: Date; gate: string }>({
    name: 'checkin.first-scan',
    text: 'SELECT scanned_at, gate FROM checkins WHERE ticket_id = $1',
    values: [ticketId],
  });
  return refuse(
    'ALREADY_CHECKED_IN',
    `checked in at ${first?.scanned_at.toISOString() ?? 'an earlier time'} at gate ${first?.gate ?? 'unknown'}`,
  );
}

/** The first answer to a nonce, if it was seen. */
export async function answered(pool: Pool, nonce: string): Promise<Outcome<CheckinResult> | undefined> {
  const {
    rows: [row],
  } = await pool.query<{ reply: Outcome<CheckinResult> }>({
    name: 'checkin.nonce-read',
    text: 'SELECT reply FROM checkin_nonces WHERE nonce = $1',
    values: [nonce],
  });
  return row?.reply;
}

/** Keeps the answer to a nonce; if another answer got there first, that one is the answer. */
export async function remember(
  pool: Pool,
  nonce: string,
  reply: Outcome<CheckinResult>,
): Promise<Outcome<CheckinResult>> {
  const { rows } = await pool.query({
    name: 'checkin.nonce-write',
    text: 'INSERT INTO checkin_nonces (nonce, reply) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING RETURNING nonce',
    values: [nonce, JSON.stringify(reply)],
  });
  return rows.length > 0 ? reply : ((await answered(pool, nonce)) ?? reply);
}
