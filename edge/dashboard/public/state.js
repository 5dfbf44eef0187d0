// What the page shows, from two sources: the analytics summary
// (GET /v1/admin/analytics/summary, shapes in
// actors/protocol/schemas/analytics.ts) and the `activity` frames of the
// WebSocket (actors/protocol/schemas/live.ts). The summary is the analytics
// actor's view; a frame that happened after the summary was generated is
// news it cannot hold yet, so it is added on top until a newer summary
// arrives. Utilization bars follow the seat counts each frame carries (the
// inventory's own, ordered by version), so they never wait for analytics.

const SEEN_LIMIT = 5000;
const RECENT_MS = 10 * 60_000;
const MAX_ALERTS = 10;

export class DashboardState {
  constructor() {
    /** The latest summary, or null before the first one. */
    this.summary = null;
    /** eventId → the newest availability a frame carried, with its version. */
    this.seats = new Map();
    /** Domain event ids already applied: a redelivered frame changes nothing. */
    this.seen = new Set();
    /** Applied frames of the last few minutes, for the figures a summary may not hold yet. */
    this.recent = [];
  }

  setSummary(summary) {
    this.summary = summary;
  }

  /** Applies a frame; false for one already seen. */
  apply(frame) {
    if (this.seen.has(frame.id)) return false;
    this.seen.add(frame.id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
    const held = this.seats.get(frame.eventId);
    if (frame.availability && (!held || held.version < frame.version))
      this.seats.set(frame.eventId, { ...frame.availability, version: frame.version });
    const now = Date.now();
    this.recent.push({ frame, atMs: Date.parse(frame.at) });
    while (this.recent.length > 0 && this.recent[0].atMs < now - RECENT_MS) this.recent.shift();
    return true;
  }

  /** Frames the current summary cannot include yet: they happened after it was generated. */
  unsummarised() {
    const since = this.summary ? Date.parse(this.summary.generatedAt) : -Infinity;
    return this.recent.filter((r) => r.atMs > since).map((r) => r.frame);
  }

  /** The figures to render: the summary with newer frames added and live seat counts. */
  view() {
    if (!this.summary) return null;
    const news = this.unsummarised();
    const totals = { ...this.summary.totals };
    const perEvent = new Map();
    for (const f of news) {
      if (!f.booking) continue;
      const sign = f.kind === 'booking.confirmed' ? 1 : -1;
      for (const figures of [totals, perEvent.get(f.eventId) ?? newDelta(perEvent, f.eventId)]) {
        figures.bookings += sign;
        figures.tickets += sign * f.booking.quantity;
        figures.revenue += sign * f.booking.totalPrice;
        if (sign < 0) figures.cancellations += 1;
      }
    }
    const events = this.summary.topEvents.map((e) => this.eventView(e, perEvent.get(e.eventId)));
    const names = new Map(events.map((e) => [e.eventId, e.name]));
    const alerts = [
      ...news.filter((f) => f.alert).map((f) => ({ id: f.id, eventId: f.eventId, ...f.alert, raisedAt: f.at })),
      ...this.summary.alerts,
    ]
      .sort((a, b) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt))
      .slice(0, MAX_ALERTS);
    return { totals, events, alerts, names, generatedAt: this.summary.generatedAt };
  }

  eventView(figures, delta) {
    const e = { ...figures };
    if (delta) {
      e.bookings += delta.bookings;
      e.tickets += delta.tickets;
      e.revenue += delta.revenue;
      e.cancellations += delta.cancellations;
    }
    const seats = this.seats.get(e.eventId);
    if (seats) {
      // The inventory's count is the truth of seats sold: capacity = confirmed + held + available.
      e.capacity = seats.capacity;
      e.tickets = seats.capacity - seats.available - seats.held;
      e.price = seats.price;
      e.status = seats.status;
      e.soldOut = seats.available === 0;
    } else {
      e.soldOut = e.tickets >= e.capacity;
    }
    e.utilization = e.capacity > 0 ? Math.min(1, Math.max(0, e.tickets / e.capacity)) : 0;
    return e;
  }
}

function newDelta(map, eventId) {
  const delta = { bookings: 0, tickets: 0, revenue: 0, cancellations: 0 };
  map.set(eventId, delta);
  return delta;
}
