// Event reminders, 24 h and 1 h before an event starts. Each event has at most
// one Agenda job per window, kept in line with the event's row whenever an
// event.created, event.updated or event.cancelled arrives: scheduled for the
// window's time while the event is scheduled and that time is ahead, removed
// otherwise. When a job fires it announces one event.reminder domain event
// through the outbox (the mailer mails every confirmed booking from it), with
// a reminders_sent row in the same transaction, so a rerun never announces twice.
import type { DomainEvent, DomainEventType } from '../../protocol/index.js';
import { domainEvent, recordEvents } from '../../platform/outbox.js';
import { inTransaction } from '../../platform/resources.js';
import { availabilityOf, type SeatCounts } from '../../platform/event-row.js';
import { appliedOnce } from '../../platform/shard-consumer.js';
import { SCHEDULER_LOCK_CLASS } from './backend.js';
import type { JobContext } from './context.js';
import { JOB } from './job-names.js';

const HOUR_MS = 3600_000;
export const REMINDER_WINDOWS = { '24h': 24 * HOUR_MS, '1h': HOUR_MS } as const;
export type ReminderWindow = keyof typeof REMINDER_WINDOWS;

/** What a reminder job carries: the start it was scheduled for, checked again when it fires. */
export interface ReminderData {
  eventId: string;
  window: ReminderWindow;
  startsAt: string;
}

/** The durable consumer that keeps reminder jobs in line with events. */
export const REMINDER_CONSUMER = 'scheduler';
export const REMINDER_TRIGGERS = [
  'event.created',
  'event.updated',
  'event.cancelled',
] as const satisfies readonly DomainEventType[];

/**
 * Brings the event's reminder jobs in line with its row as it is now, not as
 * the domain event describes it, so events of different types handled out of
 * order still end in the right state. A transaction-scoped advisory lock per
 * event makes every supervisor's consumer take its turn, so Agenda's
 * look-then-write unique save never sees two writers for one event.
 */
export async function syncReminders({ db, agenda, log }: JobContext, event: DomainEvent): Promise<void> {
  await inTransaction(db, async (client) => {
    if (!(await appliedOnce(client, REMINDER_CONSUMER, event.id))) return;
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SCHEDULER_LOCK_CLASS, event.eventId]);
    const { rows } = await client.query<{ status: string; starts_at: Date }>(
      'SELECT status, starts_at FROM events WHERE id = $1',
      [event.eventId],
    );
    const [row] = rows;
    const startsAt = row?.status === 'scheduled' ? row.starts_at : null;
    // The connection idles while Agenda writes; one dropped meanwhile emits 'error', which must
    // not end the process (the next statement fails, the event is redelivered).
    const dropped = (err: Error) =>
      log.warn({ err, eventId: event.eventId }, 'connection lost while scheduling reminders');
    client.on('error', dropped);
    try {
      for (const [window, before] of Object.entries(REMINDER_WINDOWS) as [ReminderWindow, number][]) {
        const at = startsAt ? new Date(startsAt.getTime() - before) : null;
        if (startsAt && at && at.getTime() > Date.now()) {
          const data: ReminderData = { eventId: event.eventId, window, startsAt: startsAt.toISOString() };
          await agenda
            .create(JOB.eventReminder, data)
            .unique({ 'data.eventId': data.eventId, 'data.window': window })
            .schedule(at)
            .save();
        } else {
          await agenda.cancel({ name: JOB.eventReminder, data: { eventId: event.eventId, window } });
        }
      }
    } finally {
      client.off('error', dropped);
    }
  });
}

type ReminderRow = SeatCounts & { version: number; starts_at: Date; started: boolean };

export type ReminderResult = 'announced' | 'stale' | 'nobody-booked' | 'announced-before';

/**
 * Announces one reminder if the event is still scheduled with the start the
 * job was made for, has not started, and has confirmed bookings to remind.
 * FOR SHARE keeps an edit or a cancellation from committing in between.
 */
export async function announceReminder(
  { db, config }: JobContext,
  { eventId, window, startsAt }: ReminderData,
): Promise<ReminderResult> {
  return inTransaction(db, async (client) => {
    const { rows } = await client.query<ReminderRow>(
      `SELECT capacity, available, held, set_aside, price, status, version, starts_at, starts_at <= now() AS started
       FROM events WHERE id = $1 FOR SHARE`,
      [eventId],
    );
    const row = rows[0];
    if (!row || row.status !== 'scheduled' || row.started || row.starts_at.toISOString() !== startsAt) return 'stale';
    const booked = await client.query(`SELECT 1 FROM bookings WHERE event_id = $1 AND status = 'confirmed' LIMIT 1`, [
      eventId,
    ]);
    if (booked.rowCount === 0) return 'nobody-booked';
    const claimed = await client.query(
      'INSERT INTO reminders_sent (event_id, reminder_window, starts_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [eventId, window, startsAt],
    );
    if (claimed.rowCount === 0) return 'announced-before';
    const change = {
      eventId,
      version: row.version,
      availability: availabilityOf(row),
      requestId: `reminder-${window}-${eventId}`,
    };
    await recordEvents(client, config.shards, [domainEvent('event.reminder', change, { window, startsAt })]);
    return 'announced';
  });
}
