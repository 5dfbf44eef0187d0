// Agenda in the supervisor: the recurring jobs of jobs.ts, the one-off event
// reminders, and the durable consumer that schedules reminders as events are
// created, moved and cancelled. Every supervisor runs one; they share Agenda's
// store, whose job locks let exactly one of them run each due job. It opens
// its own connections, so a test can start a second one beside a system.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agenda, backoffStrategies, type Job } from 'agenda';
import { connect } from 'nats';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { openPostgres, openRedis } from '../../platform/resources.js';
import { consumeShards } from '../../platform/shard-consumer.js';
import { Broker } from '../../platform/broker.js';
import { connectBackend } from './backend.js';
import type { JobContext } from './context.js';
import { JOB, type JobName } from './job-names.js';
import { RECURRING_JOBS } from './jobs.js';
import { measured } from './metrics.js';
import {
  announceReminder,
  REMINDER_CONSUMER,
  REMINDER_TRIGGERS,
  syncReminders,
  type ReminderData,
} from './reminders.js';
import { natsOptions } from '../../platform/nats-connect.js';

/**
 * A job's lock lasts this many polls (EVENTLY_SCHEDULER_POLL_MS): Agenda locks a
 * job up to one poll before it is due, and a running job renews its lock every
 * poll, so only a job whose runner died is taken up again, one lifetime later.
 * Kept short because Agenda's watchdog holds a timer of half a lifetime after
 * every run, which keeps a stopped process alive that long.
 */
const LOCK_POLLS = 4;
/** How long stop() waits for jobs this supervisor is running. */
const STOP_WAIT_MS = 10_000;
const POLL_MS = 100;
/** A reminder that fails (the database away) is tried again at 1, 2, 4, 8, 16 s. */
const REMINDER_RETRY = backoffStrategies.exponential({ delay: 1000, factor: 2, maxRetries: 5 });

export interface Scheduler {
  readonly agenda: Agenda;
  readonly backend: 'postgres' | 'mongodb';
  /** Runs a job once now (with `data`, for a reminder), on whichever supervisor takes it; resolves when it has run, rejects if it failed. */
  runNow(name: JobName, data?: unknown): Promise<void>;
  stop(): Promise<void>;
}

/** Defines a job counted and timed by the metrics, renewing its lock while it runs. */
function define<D>(
  agenda: Agenda,
  name: JobName,
  log: Logger,
  renewMs: number,
  body: (job: Job<D>) => Promise<void>,
  options = {},
): void {
  agenda.define<D>(
    name,
    measured(name, log, async (job: Job<D>) => {
      const renew = setInterval(() => {
        job.touch().catch((err: unknown) => log.warn({ err, job: name }, 'could not renew a job lock'));
      }, renewMs);
      try {
        await body(job);
      } finally {
        clearInterval(renew);
      }
    }),
    options,
  );
}

export async function startScheduler(
  config: Config,
  baseLog: Logger,
  name = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
): Promise<Scheduler> {
  if (!config.natsUrl) throw new Error('NATS_URL must be set');
  const log = baseLog.child({ scheduler: name });
  const db = openPostgres(config, log, 6);
  const agendaDb = openPostgres(config, log, 4);
  const redis = openRedis(config, log);
  const closers: (() => Promise<unknown>)[] = [() => db.end(), () => agendaDb.end(), async () => redis.disconnect()];
  const close = async () => {
    for (const step of closers.splice(0).reverse())
      await step().catch((err: unknown) => log.warn({ err }, 'scheduler stop step failed'));
  };
  try {
    const nc = await connect(
      natsOptions(config, 'supervisor', { name: 'evently-scheduler', maxReconnectAttempts: -1 }),
    );
    closers.push(() => nc.drain());
    const { backend, kind } = await connectBackend(config, agendaDb, log);
    closers.push(() => backend.disconnect());
    const agenda = new Agenda({
      backend,
      name,
      processEvery: config.schedulerPollMs,
      defaultLockLifetime: LOCK_POLLS * config.schedulerPollMs,
      removeOnComplete: true,
    });
    agenda.on('error', (err) => log.warn({ err }, 'scheduler store error'));
    const ctx: JobContext = {
      config,
      log,
      db,
      redis,
      broker: new Broker(nc, config.shards, config.brokerTimeoutMs),
      agenda,
    };

    define<ReminderData>(
      agenda,
      JOB.eventReminder,
      log,
      config.schedulerPollMs,
      async (job) => {
        const result = await announceReminder(ctx, job.attrs.data);
        log.info({ ...job.attrs.data, result }, 'event reminder');
      },
      { backoff: REMINDER_RETRY },
    );
    for (const job of RECURRING_JOBS)
      define(agenda, job.name, log, config.schedulerPollMs, () => job.run(ctx), { concurrency: 1 });

    // Jobs this instance is running (other supervisors' job events arrive flagged remote).
    const running = new Set<string>();
    agenda.on('start', (job, remote) => {
      if (!remote) running.add(String(job.attrs._id));
    });
    agenda.on('complete', (job, remote) => {
      if (!remote) running.delete(String(job.attrs._id));
    });
    await agenda.start();
    closers.push(async () => {
      // Jobs it has locked but not started are handed back at once; those running may finish.
      await agenda.stop(false);
      for (const deadline = Date.now() + STOP_WAIT_MS; running.size > 0 && Date.now() < deadline;) await sleep(POLL_MS);
    });
    for (const job of RECURRING_JOBS) await agenda.every(job.every(config), job.name);

    const allShards = Array.from({ length: config.shards }, (_, shard) => shard);
    const consumer = await consumeShards(nc, REMINDER_CONSUMER, allShards, REMINDER_TRIGGERS, log, (event) =>
      syncReminders(ctx, event),
    );
    closers.push(() => consumer.stop());
    log.info({ backend: kind, jobs: RECURRING_JOBS.map((j) => j.name) }, 'scheduler running');

    return {
      agenda,
      backend: kind,
      async runNow(job, data) {
        const id = String((await agenda.now(job, data)).attrs._id);
        // Polled through the store, so it sees the run whichever supervisor made it; done one-offs are removed.
        for (;;) {
          const [found] = (await agenda.queryJobs({ id })).jobs;
          if (!found) return;
          if (found.failedAt) throw new Error(`${job} failed: ${found.failReason ?? 'no reason given'}`);
          await sleep(POLL_MS);
        }
      },
      stop: close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
