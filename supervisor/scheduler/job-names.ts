// The name of every Agenda job, in one place. Names are stored with the jobs
// (in PostgreSQL or MongoDB), so renaming one strands the rows saved under the
// old name: add a new name rather than change one.
export const JOB = {
  eventReminder: 'event-reminder',
  holdSweep: 'hold-expiry-sweep',
  lockCleanup: 'lock-cleanup',
  completeEvents: 'complete-past-events',
  retentionCleanup: 'retention-cleanup',
} as const;

export type JobName = (typeof JOB)[keyof typeof JOB];
