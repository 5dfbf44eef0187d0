// How many clients watch each event across every edge. Each edge reports its
// own counts on its presence subject every interval, and promptly (throttled)
// when they change; each edge sums the latest report of every other edge it
// has heard from recently with its own live counts. An edge that stops
// reporting (crashed, partitioned) is forgotten after three intervals, so its
// watchers do not haunt the totals.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection, Subscription } from 'nats';
import { Compile } from 'typebox/compile';
import { PRESENCE_ALL, PresenceReport, presenceSubject, type PresenceSummary } from '../../protocol/index.js';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { LiveHub } from './hub.js';
import { throttled, type Throttled } from './throttle.js';

export interface PresenceTiming {
  intervalMs: number;
  throttleMs: number;
}

const FORGET_AFTER_INTERVALS = 3;
const validReport = Compile(PresenceReport);

/** Unique per edge process and safe as a subject token. */
const newEdgeId = (): string =>
  `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.replace(/[^A-Za-z0-9_-]/g, '_');

export class Presence {
  readonly edgeId = newEdgeId();
  private readonly edges = new Map<string, { watchers: Record<string, number>; heardAt: number }>();
  /** The total last sent to the local watchers of each event, so an unchanged total is not pushed again. */
  private readonly pushed = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly report: Throttled;
  private readonly push: Throttled;
  private subscription: Subscription | undefined;
  private ticker: NodeJS.Timeout | undefined;

  /** Told (throttled) when the total of an event watched here changed. */
  onTotalChange: (eventId: string) => void = () => undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly hub: LiveHub,
    private readonly timing: PresenceTiming,
    private readonly log: Logger,
  ) {
    this.report = throttled(() => this.publish(), timing.throttleMs);
    this.push = throttled(() => this.flush(), timing.throttleMs);
  }

  start(): void {
    this.subscription = this.nc.subscribe(PRESENCE_ALL, {
      callback: (err, msg) => {
        if (!err) this.heard(msg.data);
      },
    });
    this.ticker = setInterval(() => {
      this.publish();
      this.sweep();
    }, this.timing.intervalMs);
    this.ticker.unref();
    this.publish();
  }

  /** Reports no watchers (so other edges drop ours at once) and stops listening. */
  stop(): void {
    clearInterval(this.ticker);
    this.report.cancel();
    this.push.cancel();
    this.subscription?.unsubscribe();
    this.publish({});
  }

  total(eventId: string): number {
    let n = this.hub.localWatchers(eventId);
    for (const edge of this.edges.values()) n += edge.watchers[eventId] ?? 0;
    return n;
  }

  /** The total to put in a frame being sent now; remembered as pushed. */
  watchersToSend(eventId: string): number {
    const n = this.total(eventId);
    this.pushed.set(eventId, n);
    return n;
  }

  /** The hub's watchers of an event changed. */
  localChanged(eventId: string, count: number): void {
    if (count === 0) this.pushed.delete(eventId);
    this.report.request();
    this.note(eventId);
  }

  summary(limit: number): Omit<PresenceSummary, 'edge'> {
    const totals = new Map(Object.entries(this.hub.localCounts()));
    for (const edge of this.edges.values()) {
      for (const [eventId, n] of Object.entries(edge.watchers)) totals.set(eventId, (totals.get(eventId) ?? 0) + n);
    }
    const events = [...totals]
      .filter(([, watchers]) => watchers > 0)
      .map(([eventId, watchers]) => ({ eventId, watchers }))
      .sort((a, b) => b.watchers - a.watchers || a.eventId.localeCompare(b.eventId));
    return { edges: 1 + this.edges.size, events: events.slice(0, limit) };
  }

  private publish(watchers = this.hub.localCounts()): void {
    const report: PresenceReport = { edgeId: this.edgeId, watchers, at: Date.now() };
    try {
      this.nc.publish(presenceSubject(this.edgeId), JSON.stringify(report));
    } catch (err) {
      // Only a closed connection throws (a reconnecting one buffers); the next interval tries again.
      this.log.warn({ err }, 'presence report not sent');
    }
  }

  private heard(data: Uint8Array): void {
    let report: unknown;
    try {
      report = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      return;
    }
    if (!validReport.Check(report) || report.edgeId === this.edgeId) return;
    const before = this.edges.get(report.edgeId)?.watchers ?? {};
    this.edges.set(report.edgeId, { watchers: report.watchers, heardAt: Date.now() });
    for (const eventId of new Set([...Object.keys(before), ...Object.keys(report.watchers)])) {
      if (before[eventId] !== report.watchers[eventId]) this.note(eventId);
    }
  }

  private sweep(): void {
    const silentSince = Date.now() - FORGET_AFTER_INTERVALS * this.timing.intervalMs;
    for (const [edgeId, edge] of this.edges) {
      if (edge.heardAt >= silentSince) continue;
      this.edges.delete(edgeId);
      this.log.info({ edgeId }, 'presence: edge not heard from, forgotten');
      for (const eventId of Object.keys(edge.watchers)) this.note(eventId);
    }
  }

  private note(eventId: string): void {
    if (this.hub.localWatchers(eventId) === 0 || this.pushed.get(eventId) === this.total(eventId)) return;
    this.dirty.add(eventId);
    this.push.request();
  }

  private flush(): void {
    const due = [...this.dirty];
    this.dirty.clear();
    for (const eventId of due) {
      if (this.hub.localWatchers(eventId) > 0 && this.pushed.get(eventId) !== this.total(eventId))
        this.onTotalChange(eventId);
    }
  }
}
