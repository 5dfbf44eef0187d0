// OpenAPI examples of the analytics routes (they never affect validation).
const eventId = '01937a4c-1f00-7000-8000-0000000000ee';

const figures = {
  eventId,
  name: 'Hot show',
  status: 'scheduled',
  startsAt: '2027-06-01T20:00:00.000Z',
  capacity: 500,
  price: 2500,
  bookings: 182,
  tickets: 371,
  cancellations: 9,
  cancellationRate: 0.047,
  revenue: 927500,
  utilization: 0.742,
  velocity: 12.4,
  waitlistLength: 0,
  waitlistConversion: 0.8,
  sellOutAt: '2026-11-24T20:10:05.000Z',
};

const alert = {
  id: '01937a4c-1f00-7000-8000-0000000000a1',
  eventId,
  kind: 'velocity-spike',
  observed: 62,
  baseline: 4.1,
  detail: '62 tickets in the minute from 19:58 UTC, 15.12× the 30-minute baseline of 4.1/min',
  raisedAt: '2026-11-24T19:58:41.000Z',
};

const day = (date: string, bookings: number, tickets: number, cancellations: number, revenue: number) => ({
  day: date,
  bookings,
  tickets,
  cancellations,
  revenue,
});

const totals = {
  events: 12,
  bookings: 1840,
  tickets: 3920,
  cancellations: 61,
  cancellationRate: 0.032,
  revenue: 9800000,
  utilization: 0.41,
  velocity: 14.2,
};

export const analyticsExamples = {
  summary: {
    totals,
    topEvents: [figures],
    daily: [day('2026-11-23', 310, 640, 12, 1570000), day('2026-11-24', 1530, 3280, 49, 8230000)],
    alerts: [alert],
    generatedAt: '2026-11-24T20:00:00.000Z',
  },
  event: {
    figures,
    daily: [day('2026-11-24', 191, 389, 9, 927500)],
    alerts: [alert],
    generatedAt: '2026-11-24T20:00:00.000Z',
  },
  dailyReport: {
    day: day('2026-11-24', 1530, 3280, 49, 8230000),
    topEvents: [{ eventId, name: 'Hot show', bookings: 191, tickets: 389, cancellations: 9, revenue: 927500 }],
    alerts: [alert],
    totals,
    generatedAt: '2026-11-25T06:00:00.000Z',
  },
  rebuildBody: { source: 'bookings' },
  rebuilt: { source: 'stream', applied: 48210, firstSequence: 1, lastSequence: 96533, tookMs: 2140 },
  csv:
    'bookingId,userId,email,name,quantity,unitPrice,totalPrice,currency,status,createdAt,cancelledAt\r\n' +
    '01937a4c-1f00-7000-8000-0000000000bb,01937a4c-1f00-7000-8000-0000000000aa,me@example.com,"Doe, ""Jay""",2,2500,5000,EUR,confirmed,2026-11-24T20:00:00.000Z,\r\n',
} as const;
