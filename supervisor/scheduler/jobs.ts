// The recurring jobs every supervisor schedules, one row each: name (from
// job-names.ts), how often, and what it does. To add one (say a daily
// analytics report), add its name, a setting for its interval if operators
// should tune it, and a row here; the scheduler defines, counts and times it,
// and Agenda's lock in the shared store runs it on one supervisor at a time.
import type { Config } from '../../platform/config.js';
import { completePastEvents } from './complete-events.js';
import type { JobContext } from './context.js';
import { sweepHolds } from './hold-sweep.js';
import { JOB, type JobName } from './job-names.js';
import { cleanLocks } from './lock-cleanup.js';
import { cleanRetention } from './retention.js';

export interface RecurringJob {
  readonly name: JobName;
  /** Milliseconds, or anything Agenda's every() takes ('1 day', a cron line such as '0 6 * * *'). */
  readonly every: (config: Config) => number | string;
  readonly run: (ctx: JobContext) => Promise<void>;
}

export const RECURRING_JOBS: readonly RecurringJob[] = [
  { name: JOB.holdSweep, every: (c) => c.holdSweepMs, run: sweepHolds },
  { name: JOB.lockCleanup, every: (c) => c.lockCleanupMs, run: cleanLocks },
  { name: JOB.completeEvents, every: (c) => c.completeEventsMs, run: completePastEvents },
  { name: JOB.retentionCleanup, every: (c) => c.retentionCleanupMs, run: cleanRetention },
];
