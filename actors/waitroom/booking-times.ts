// The latency signal of the adaptive pace: each edge reports, once a second
// per event with a room, the p90 of the bookings it answered (core NATS,
// edge/plugins/admission.ts). A room's booking time is the worst recent
// report of any edge: one slow edge is people waiting. Reports are checked
// against their schema; an edge is a broker user with its own credentials,
// and nothing else may publish on the subject.
import type { NatsConnection, Subscription } from 'nats';
import { Compile } from 'typebox/compile';
import { BOOKING_PACE_SUBJECTS, BookingPace } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';

const valid = Compile(BookingPace);

/** A report counts this long after it arrived: about two of an edge's seconds. */
export const FRESH_MS = 2_000;
/**
 * Every thread hears every event's reports but asks only about the rooms it owns, which prunes
 * them; past this many events, a report sweeps out the events nobody has reported on lately.
 */
export const SWEEP_AT = 1_000;

export class BookingTimes {
  /** Per event, per edge: the last report and when it arrived. */
  private readonly reports = new Map<string, Map<string, { p90Ms: number; at: number }>>();

  note(report: BookingPace, at = Date.now()): void {
    const edges = this.reports.get(report.eventId) ?? new Map<string, { p90Ms: number; at: number }>();
    edges.set(report.edge, { p90Ms: report.p90Ms, at });
    this.reports.set(report.eventId, edges);
    if (this.reports.size > SWEEP_AT) for (const eventId of [...this.reports.keys()]) this.p90Ms(eventId, at);
  }

  /** Events with a report kept (fresh or not yet swept). */
  get events(): number {
    return this.reports.size;
  }

  /** The worst fresh p90 of the event's bookings, or undefined when no edge booked it lately. */
  p90Ms(eventId: string, now = Date.now()): number | undefined {
    const edges = this.reports.get(eventId);
    if (!edges) return undefined;
    let worst: number | undefined;
    for (const [edge, r] of edges) {
      if (now - r.at > FRESH_MS) edges.delete(edge);
      else worst = Math.max(worst ?? 0, r.p90Ms);
    }
    if (edges.size === 0) this.reports.delete(eventId);
    return worst;
  }

  /** Follows every edge's reports; the subscription ends with the actor. */
  follow(nc: NatsConnection, log: Logger): Subscription {
    return nc.subscribe(BOOKING_PACE_SUBJECTS, {
      callback: (err, msg) => {
        if (err) return;
        let report: unknown;
        try {
          report = msg.json();
        } catch {
          report = undefined;
        }
        if (valid.Check(report)) this.note(report);
        else log.warn({ subject: msg.subject }, 'booking pace report ignored: not a BookingPace');
      },
    });
  }
}
