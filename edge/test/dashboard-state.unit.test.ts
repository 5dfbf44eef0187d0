// The page's figures (edge/dashboard/public/state.js, plain JS run as-is in
// Node: it touches no DOM): frames newer than the summary are added on top
// of it, older ones are taken to be in it, a redelivered frame counts once,
// and bars follow the newest seat counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivityMessage, AnalyticsSummary, EventFigures } from '../../protocol/index.js';

interface View {
  totals: AnalyticsSummary['totals'];
  events: (EventFigures & { soldOut: boolean })[];
}
interface State {
  setSummary(s: AnalyticsSummary): void;
  apply(f: ActivityMessage): boolean;
  view(): View;
}
const { DashboardState } = (await import(new URL('../../../edge/dashboard/public/state.js', import.meta.url).href)) as {
  DashboardState: new () => State;
};

const eventId = '0195f0c1-11aa-7d40-8e2b-6c5d4f3e2a10';
const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
const figures: EventFigures = {
  eventId,
  name: 'Hot show',
  status: 'scheduled',
  startsAt: at(-86_400_000),
  capacity: 40,
  price: 1000,
  bookings: 1,
  tickets: 2,
  cancellations: 0,
  cancellationRate: 0,
  revenue: 2000,
  utilization: 0.05,
  velocity: 1,
  waitlistLength: 0,
  waitlistConversion: 0,
  sellOutAt: null,
};
/** One event; the totals are that event's figures. */
const summary = (generatedMsAgo: number, bookings = 1, tickets = 2): AnalyticsSummary => ({
  totals: {
    events: 1,
    bookings,
    tickets,
    cancellations: 0,
    cancellationRate: 0,
    revenue: tickets * 1000,
    utilization: tickets / 40,
    velocity: 1,
  },
  topEvents: [{ ...figures, bookings, tickets, revenue: tickets * 1000, utilization: tickets / 40 }],
  daily: [],
  alerts: [],
  generatedAt: at(generatedMsAgo),
});
let n = 0;
const booked = (quantity: number, available: number, version: number, msAgo: number): ActivityMessage => ({
  type: 'activity',
  kind: 'booking.confirmed',
  id: `0195f0c4-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  eventId,
  version,
  at: at(msAgo),
  availability: { available, held: 0, capacity: 40, price: 1000, status: 'scheduled' },
  booking: { quantity, totalPrice: quantity * 1000 },
});

test('when a booking happens after the summary was generated, then totals add it, once, and the bar follows its seat counts', () => {
  const state = new DashboardState();
  state.setSummary(summary(5000));
  const frame = booked(3, 35, 7, 1000);
  state.apply(booked(9, 26, 5, 9000)); // older than the summary: already in it
  assert.equal(state.apply(frame), true);
  assert.equal(state.apply(frame), false, 'a redelivery changes nothing');
  const { totals, events } = state.view();
  assert.deepEqual([totals.tickets, totals.bookings, totals.revenue], [5, 2, 5000]);
  assert.deepEqual([events[0]?.tickets, events[0]?.utilization, events[0]?.soldOut], [5, 0.125, false]);
});

test('when a newer summary already holds a booking, then it is not counted twice, and an older seat count never replaces a newer one', () => {
  const state = new DashboardState();
  state.apply(booked(3, 34, 7, 5000));
  state.apply(booked(1, 37, 6, 4000));
  state.setSummary(summary(1000, 3, 6));
  const { totals, events } = state.view();
  assert.equal(totals.tickets, 6, "the summary's own figure: both frames are older than it");
  assert.equal(events[0]?.tickets, 6, 'from version 7 (34 available), not the later-arriving version 6');
});

test("when an event's last seats go, then it shows as sold out", () => {
  const state = new DashboardState();
  state.setSummary(summary(5000));
  state.apply(booked(38, 0, 9, 100));
  const [event] = state.view().events;
  assert.deepEqual([event?.utilization, event?.soldOut], [1, true]);
});
