// `node dist/ops/bench/mail-delivery.js`: how fast booking confirmations
// reach the mail sink. A burst of bookings (100 users booking in parallel)
// on one event; for each, the time from the booking's commit to its mail
// being accepted by SMTP (both read from the database), and the mails per
// second over the whole burst. Reference, same run: the same number of mails
// sent straight to a sink by nodemailer (pooled, as the mailer does) from this
// process, which is what SMTP alone costs here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { expectRow } from '../../platform/expect-row.js';
import { startMailSink } from '../stack/mail-sink.js';
import { createEvent, registerUsers } from './api.js';
import { stopRunningSystems, withSystem, type SystemUnderTest } from './fixture.js';
import { median, percentile } from './summary.js';

const usage = `usage: node dist/ops/bench/mail-delivery.js [options]

Prints a markdown table of booking → confirmation mail accepted by the local
SMTP sink (mails/s over a burst, p50/p99 latency per mail), with nodemailer
sending the same number of mails straight to a sink as the reference.

Options:
  --users U    users booking in parallel (default 100)
  --each B     bookings per user, one after another (default 10)
  --runs K     repeat; the table shows medians (default 3)
  --help       print this and exit`;

interface Result {
  perSecond: number;
  latencies: number[];
  bookingsPerSecond?: number;
  planned?: number[];
}

async function reference(mails: number): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'evently-mail-ref-'));
  const sink = await startMailSink({ dir, port: 0, log: () => undefined });
  const transport = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: 4 });
  try {
    const started = performance.now();
    const latencies = await Promise.all(
      Array.from({ length: mails }, async (_, i) => {
        const at = performance.now();
        await transport.sendMail({
          from: 'bench@evently.local',
          to: `r${i}@example.test`,
          subject: 'Reference',
          text: 'Hello',
          html: '<p>Hello</p>',
        });
        return performance.now() - at;
      }),
    );
    return { perSecond: mails / ((performance.now() - started) / 1000), latencies };
  } finally {
    transport.close();
    await sink.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function oneRun(sut: SystemUnderTest, users: number, each: number): Promise<Result> {
  const eventId = await createEvent(sut.url, sut.adminToken, {
    name: 'Mail bench',
    capacity: users * each,
    maxTicketsPerUser: each,
  });
  const tokens = await registerUsers(sut.url, users);
  await Promise.all(
    tokens.map(async (token) => {
      for (let i = 0; i < each; i++) {
        const res = await fetch(`${sut.url}/v1/events/${eventId}/bookings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ quantity: 1 }),
        });
        if (res.status !== 201) throw new Error(`booking: ${res.status} ${await res.text()}`);
      }
    }),
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    const {
      rows: [counted],
    } = await sut.db.query<{ sent: number }>(
      `SELECT count(*)::int AS sent FROM mail_deliveries WHERE event_id = $1 AND template = 'booking-confirmed' AND status = 'sent'`,
      [eventId],
    );
    const { sent } = expectRow(counted, 'mails sent');
    if (sent === users * each) break;
    if (Date.now() > deadline) throw new Error(`only ${sent} of ${users * each} mails sent in 2 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { rows } = await sut.db.query<{ ms: number; planned: number; booked: Date; sent: Date }>(
    `SELECT extract(epoch FROM d.sent_at - b.created_at) * 1000 AS ms, extract(epoch FROM d.created_at - b.created_at) * 1000 AS planned,
       b.created_at AS booked, d.sent_at AS sent
     FROM mail_deliveries d JOIN bookings b ON b.id = (d.data->'booking'->>'id')::uuid
     WHERE d.event_id = $1 AND d.template = 'booking-confirmed'`,
    [eventId],
  );
  const first = Math.min(...rows.map((r) => r.booked.getTime()));
  const span = (last: number) => (last - first) / 1000;
  return {
    perSecond: rows.length / span(Math.max(...rows.map((r) => r.sent.getTime()))),
    bookingsPerSecond: rows.length / span(Math.max(...rows.map((r) => r.booked.getTime()))),
    latencies: rows.map((r) => Number(r.ms)),
    planned: rows.map((r) => Number(r.planned)),
  };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        help: { type: 'boolean', short: 'h' },
        users: { type: 'string' },
        each: { type: 'string' },
        runs: { type: 'string' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const users = Number(values.users ?? '100');
  const each = Number(values.each ?? '10');
  const runs = Number(values.runs ?? '3');
  if (![users, each, runs].every((n) => Number.isInteger(n) && n >= 1)) {
    console.error(`--users, --each and --runs must be positive integers\n\n${usage}`);
    return 2;
  }
  process.on('SIGINT', () => void stopRunningSystems().finally(() => process.exit(130)));
  const measured: Result[] = [];
  const references: Result[] = [];
  // The burst of bookings is a sale, which holds mail until it is a minute old (EVENTLY_MAIL_SALE_HOLD_MS,
  // docs/architecture.md); this measures how fast the pipeline carries a booking to SMTP, so no hold.
  const settings = { mailSaleHoldMs: 0 };
  await withSystem('mail', { batching: true, kdfCost: 12, settings }, async (sut) => {
    for (let i = 0; i < runs; i++) {
      const ref = await reference(users * each);
      const run = await oneRun(sut, users, each);
      references.push(ref);
      measured.push(run);
      console.error(
        `  run ${i + 1}: ${run.perSecond.toFixed(0)} mails/s, p99 ${percentile(run.latencies, 99).toFixed(0)} ms (reference ${ref.perSecond.toFixed(0)} mails/s)`,
      );
    }
  });
  const cell = (results: Result[], f: (r: Result) => number | undefined) => {
    const values = results.map(f).filter((v): v is number => v !== undefined);
    return values.length ? median(values).toFixed(0) : '–';
  };
  const line = (label: string, results: Result[]) =>
    `| ${label} | ${users * each} | ${cell(results, (r) => r.bookingsPerSecond)} | ${cell(
      results,
      (r) => r.perSecond,
    )} | ${cell(results, (r) => r.planned && median(r.planned))} | ${cell(results, (r) =>
      median(r.latencies),
    )} | ${cell(results, (r) => percentile(r.latencies, 99))} |`;
  console.log(
    `\n### Booking → confirmation mail in the sink (${users} users × ${each} bookings, median of ${runs} runs)\n`,
  );
  console.log(
    '| measured | mails | bookings/s | mails/s | planned p50 ms | sent p50 ms | sent p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  console.log(line('ref: nodemailer → sink, same process', references));
  console.log(line('booking committed → mail accepted by SMTP', measured));
  return 0;
}

process.exit(await main());
