// The inventory's own series, on its thread's default registry (collected
// by the supervisor, see platform/metrics.ts). Counted after the
// outcome is known, so a rolled-back batch counts nothing.
import { Counter, Histogram } from 'prom-client';
import type { Booking, Outcome } from '../../protocol/index.js';

export const batchSizes = new Histogram({
  name: 'evently_booking_batch_size',
  help: 'Booking requests served by one batch (one read, one commit); retries of a batch count again',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
});

export const lockWaitSeconds = new Histogram({
  name: 'evently_booking_lock_wait_seconds',
  help: 'Time to take the Redis booking lock of a user and event; outcome timeout is BOOKING_IN_PROGRESS',
  labelNames: ['outcome'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
});

export const unlockedWriteConflicts = new Counter({
  name: 'evently_booking_unlocked_conflicts_total',
  help: 'Booking batches whose unlocked write found the event row changed since its read; each ran again under the row lock',
});

const bookings = new Counter({
  name: 'evently_bookings_total',
  help: 'Bookings confirmed (direct, or a waitlist hold confirmed)',
  labelNames: ['via'],
});
const tickets = new Counter({ name: 'evently_tickets_sold_total', help: 'Seats in the bookings confirmed' });
const soldOut = new Counter({ name: 'evently_sold_out_total', help: 'Booking requests refused SOLD_OUT' });
const cancellations = new Counter({
  name: 'evently_booking_cancellations_total',
  help: 'Bookings cancelled, by the booker or an admin (booking) or with their event (event)',
  labelNames: ['by'],
});

export function countBooking(outcome: Outcome<Booking>, via: 'direct' | 'hold'): void {
  if (outcome.ok) {
    bookings.inc({ via });
    tickets.inc(outcome.value.quantity);
  } else if (outcome.code === 'SOLD_OUT') {
    soldOut.inc();
  }
}

export function countCancellations(count: number, by: 'booking' | 'event'): void {
  if (count > 0) cancellations.inc({ by }, count);
}
