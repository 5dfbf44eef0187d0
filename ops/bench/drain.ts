// How far the background falls behind during a sale, and how long it takes to
// catch up after: the lag is every durable consumer's backlog on the domain
// stream (pending + delivered but not acknowledged), sampled while the load
// runs; "drained" means no backlog, no mail of the event still to send, and
// the analytics roll-up equal to the bookings table.
import { connect, type NatsConnection } from 'nats';
import type { Config } from '../../platform/config.js';
import { natsOptions } from '../../platform/nats-connect.js';
import type pg from 'pg';
import { DOMAIN_STREAM } from '../../protocol/index.js';

const SAMPLE_MS = 250;
/** A backlog still there after this long is reported as not drained. */
const DRAIN_LIMIT_MS = 180_000;

export interface DrainResult {
  /** Most domain messages waiting for consumers at any sample during the sale. */
  peakLag: number;
  /** From the end of the load until everything caught up; null when it did not within the limit. */
  drainMs: number | null;
}

async function backlog(nc: NatsConnection, skip: readonly string[]): Promise<number> {
  const jsm = await nc.jetstreamManager();
  let total = 0;
  for await (const c of jsm.consumers.list(DOMAIN_STREAM)) {
    if (skip.some((kind) => c.name.startsWith(`${kind}-`))) continue;
    total += c.num_pending + c.num_ack_pending;
  }
  return total;
}

async function caughtUp(db: pg.Pool, eventId: string, skip: readonly string[]): Promise<boolean> {
  if (!skip.includes('mailer')) {
    const {
      rows: [mail],
    } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mail_deliveries WHERE event_id = $1 AND status = 'pending'`,
      [eventId],
    );
    if ((mail?.n ?? 0) > 0) return false;
  }
  if (!skip.includes('analytics')) {
    const {
      rows: [a],
    } = await db.query<{ same: boolean }>(
      `SELECT coalesce((SELECT tickets FROM analytics_events WHERE event_id = $1), 0)
            = (SELECT coalesce(sum(quantity), 0) FROM bookings WHERE event_id = $1 AND status = 'confirmed') AS same`,
      [eventId],
    );
    if (!a?.same) return false;
  }
  return true;
}

/** Samples the backlog while `load` runs, then waits for the catch-up. `skip`: pools that are off. */
export async function measureDrain<T>(
  config: Config,
  db: pg.Pool,
  eventId: string,
  skip: readonly string[],
  load: () => Promise<T>,
): Promise<{ result: T; drain: DrainResult }> {
  // The operator's broker user: reading consumer state is the supervisor's business.
  const nc = await connect(natsOptions(config, 'supervisor'));
  try {
    let peakLag = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakLag = Math.max(peakLag, await backlog(nc, skip).catch(() => 0));
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
      }
    })();
    let result: T;
    try {
      result = await load();
    } finally {
      sampling = false;
      await sampler;
    }
    const ended = Date.now();
    while (Date.now() - ended < DRAIN_LIMIT_MS) {
      if ((await backlog(nc, skip)) === 0 && (await caughtUp(db, eventId, skip)))
        return { result, drain: { peakLag, drainMs: Date.now() - ended } };
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
    return { result, drain: { peakLag, drainMs: null } };
  } finally {
    await nc.close();
  }
}
