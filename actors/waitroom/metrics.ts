// The waiting room's series on its thread's registry (summed per pool by the
// supervisor's /metrics). admitted/s is rate(evently_waitroom_admitted_total);
// wait quantiles are histogram_quantile over evently_waitroom_wait_seconds.
import { Counter, Gauge, Histogram } from 'prom-client';

export const waitingGauge = new Gauge({
  name: 'evently_waitroom_waiting',
  help: 'People waiting in a room (owning thread only)',
  labelNames: ['eventId'],
});
export const admittedTotal = new Counter({
  name: 'evently_waitroom_admitted_total',
  help: 'People admitted from a waiting room',
});
export const expiredTotal = new Counter({ name: 'evently_waitroom_expired_total', help: 'Admissions that ran out' });
export const joinedTotal = new Counter({ name: 'evently_waitroom_joined_total', help: 'New queue tickets' });
export const waitSeconds = new Histogram({
  name: 'evently_waitroom_wait_seconds',
  help: 'From joining to admission',
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
});
