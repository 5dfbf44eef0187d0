// The check-in figure of an event (checked in / sold, per gate), read from
// Postgres and pushed on a core NATS subject as scans happen. Pushes are
// throttled per event (at most one read and one message per interval, the
// last scan always followed by one), so twenty gates scanning at full speed
// cost a few reads a second, not one per scan.
import type { NatsConnection } from 'nats';
import type { Pool } from 'pg';
import { checkinFiguresSubject, type CheckinFigures } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';

const PUSH_EVERY_MS = 250;

export async function readFigures(pool: Pool, eventId: string): Promise<CheckinFigures> {
  const { rows } = await pool.query<{ sold: number; gate: string | null; n: number }>({
    name: 'checkin.figures',
    text: `SELECT (SELECT coalesce(sum(quantity), 0)::int FROM bookings WHERE event_id = $1 AND status = 'confirmed') AS sold,
                  c.gate, count(c.ticket_id)::int AS n
             FROM (SELECT 1) one LEFT JOIN checkins c ON c.event_id = $1
            GROUP BY c.gate`,
    values: [eventId],
  });
  const gates: Record<string, number> = {};
  for (const r of rows) if (r.gate !== null) gates[r.gate] = r.n;
  return { eventId, sold: rows[0]?.sold ?? 0, checkedIn: Object.values(gates).reduce((a, b) => a + b, 0), gates };
}

export class FiguresPusher {
  private readonly due = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly pool: Pool,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** A scan changed the event's figure: push it within the interval. */
  changed(eventId: string): void {
    if (this.due.has(eventId)) return;
    this.due.set(
      eventId,
      setTimeout(() => {
        this.due.delete(eventId);
        readFigures(this.pool, eventId)
          .then((figures) => this.nc.publish(checkinFiguresSubject(eventId), JSON.stringify(figures)))
          .catch((err: unknown) => this.log.warn({ err, eventId }, 'check-in figure push failed'));
      }, PUSH_EVERY_MS),
    );
  }

  stop(): void {
    for (const timer of this.due.values()) clearTimeout(timer);
    this.due.clear();
  }
}
