// Prometheus metrics of the scheduler, on prom-client's default registry in
// the supervisor's main thread (where Agenda runs its jobs). Every job body is
// wrapped here, so no job can forget to count itself.
import { Counter, Histogram } from 'prom-client';
import type { Logger } from '../../platform/logger.js';

const runs = new Counter({
  name: 'evently_agenda_job_runs_total',
  help: 'Agenda job runs on this supervisor, by job and outcome (ok or failed)',
  // Not `job`: Prometheus sets that label to the scrape job and would rename this one.
  labelNames: ['job_name', 'outcome'],
});

const duration = new Histogram({
  name: 'evently_agenda_job_duration_seconds',
  help: 'How long one run of an Agenda job took on this supervisor',
  labelNames: ['job_name'],
  buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60],
});

/** The job body, timed and counted; a failure is logged and rethrown so Agenda records it. */
export function measured<A extends unknown[]>(
  job: string,
  log: Logger,
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args) => {
    const stop = duration.startTimer({ job_name: job });
    try {
      await body(...args);
      runs.inc({ job_name: job, outcome: 'ok' });
    } catch (err) {
      runs.inc({ job_name: job, outcome: 'failed' });
      log.warn({ err, job }, 'scheduled job failed');
      throw err;
    } finally {
      stop();
    }
  };
}
