// `node dist/ops/bench/waitroom.js`: the waiting-room benchmark (issue 15).
// A throw-away system; per run, one event with `--seats` seats and an adaptive
// room opening after the crowd has joined; a forked crowd of `--people` joins,
// follows its place (sockets, the rest polling) and books when admitted.
// Checks: every seat sold once, nobody booked without an admission, no 5xx,
// admission order = drawn order; reports join rate, booking p99 of admitted
// people, queue-frame latency, and the pre-queue uniformity statistics; the
// join rate beside a same-run reference, and medians over `--runs`.
import { fork } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { positionChiSquare } from '../../actors/waitroom/shuffle.js';
import { expectRow } from '../../platform/expect-row.js';
import { countBetween, quantileBetween, readHistogram, type Buckets } from './edge-histograms.js';
import { withSystem, type SystemUnderTest } from './fixture.js';
import { startReference } from './reference.js';
import { median } from './summary.js';
import type { FromWaitroomCrowd, WaitroomCrowdGo, WaitroomCrowdResult, WaitroomCrowdSpec } from './waitroom-crowd.js';

const usage = `usage: node dist/ops/bench/waitroom.js [--people 20000] [--sockets 5000] [--seats 2000] [--join-window 10]
                                          [--runs 3] [--poll-ms 1000]
  --people       people who join the room (each its own user)
  --sockets      how many of them follow their place over /ws (the rest poll GET .../waiting-room/me)
  --seats        capacity of the event (one ticket each)
  --join-window  seconds before opensAt the crowd has to join
  --runs         sales in a row on the same system, each with fresh users; the summary is their medians
  --poll-ms      the least time between two asks of one poller; each asks again when its ticket's
                 pollAfterSeconds says (Retry-After on a refusal), at most 50 polls in flight
The crowd first sends as many requests to a bare Fastify server (same client, same concurrency):
the join rate is also given as a share of that same-run reference.`;

function args(argv: string[]) {
  const get = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`);
    const n = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  return {
    people: get('people', 20000),
    sockets: get('sockets', 5000),
    seats: get('seats', 2000),
    joinWindow: get('join-window', 10),
    runs: get('runs', 3),
    pollMs: get('poll-ms', 1000),
  };
}

/** A user token as the edge signs them (HS256), so 20,000 people need no 20,000 password hashes. */
function jwt(secret: string, sub: string): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub, role: 'user', iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Join order (deciles) against drawn place (deciles): chi-square of the 10×10 table, df 81. */
async function drawIndependence(db: pg.Pool, eventId: string): Promise<number> {
  const { rows } = await db.query<{ j: number; d: number }>(
    `SELECT ntile(10) OVER (ORDER BY joined_at, id) AS j, ntile(10) OVER (ORDER BY rank) AS d FROM waitroom_tickets WHERE event_id = $1 AND prequeue`,
    [eventId],
  );
  const table = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  for (const r of rows) {
    const joined = table[r.j - 1];
    if (joined) joined[r.d - 1] = (joined[r.d - 1] ?? 0) + 1;
  }
  const expected = rows.length / 100;
  return table.flat().reduce((chi, c) => chi + (c - expected) ** 2 / expected, 0);
}

/** What the edge itself measured of the sale (its /metrics), to tell server time from queueing in front of it. */
const SALE_SERIES = {
  bookingRoute: ['http_request_duration_seconds', { method: 'POST', route: '/v1/events/:id/bookings' }],
  inventoryBook: ['evently_nats_request_duration_seconds', { subject: 'inventory.bookings.create' }],
  pollRoute: ['http_request_duration_seconds', { method: 'GET', route: '/v1/events/:id/waiting-room/me' }],
  /** The edges' resyncs of their followers' places (1,000 users a call), as at the draw. */
  positions: ['evently_nats_request_duration_seconds', { subject: 'waitroom.tickets.positions' }],
  /** The edges' account-state lookups (a request waits for one only when its user's state is over 30 s old). */
  accountStates: ['evently_nats_request_duration_seconds', { subject: 'identity.accounts.states' }],
} as const;
type SaleSeries = Record<keyof typeof SALE_SERIES, Buckets>;

async function readSaleSeries(url: string): Promise<SaleSeries> {
  const out: Partial<SaleSeries> = {};
  for (const [k, [name, labels]] of Object.entries(SALE_SERIES))
    out[k as keyof SaleSeries] = await readHistogram(url, name, labels);
  return out as SaleSeries;
}

interface SeriesFigures {
  count: number;
  p50Ms: number | string;
  p99Ms: number | string;
}

function saleSeriesBetween(before: SaleSeries, after: SaleSeries): Record<keyof SaleSeries, SeriesFigures> {
  const ms = (s: number) => (Number.isFinite(s) ? Math.round(s * 1000) : s > 0 ? '>5000' : 'n/a');
  return Object.fromEntries(
    Object.keys(SALE_SERIES).map((k) => {
      const key = k as keyof SaleSeries;
      return [
        key,
        {
          count: countBetween(before[key], after[key]),
          p50Ms: ms(quantileBetween(before[key], after[key], 0.5)),
          p99Ms: ms(quantileBetween(before[key], after[key], 0.99)),
        },
      ];
    }),
  ) as Record<keyof SaleSeries, SeriesFigures>;
}

type Options = ReturnType<typeof args>;

type RunResult = Awaited<ReturnType<typeof oneRun>>;

/**
 * Waits (up to 5 min) until the last sale's mail is sent. It is held while a sale is on and goes
 * after it (EVENTLY_MAIL_SALE_HOLD_MS); a run that began while it went would measure the mailer too.
 */
async function mailSent(db: pg.Pool): Promise<void> {
  const started = Date.now();
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mail_deliveries WHERE status = 'pending'`,
    );
    const pending = rows[0]?.n ?? 0;
    if (pending === 0 || Date.now() - started > 300_000) {
      console.error(`  last sale's mail: ${pending} pending after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** One sale on a fresh event and fresh users of the running system. */
async function oneRun(sut: SystemUnderTest, db: pg.Pool, referenceUrl: string, o: Options) {
  const config = sut.system.config;
  const ev = (await (
    await fetch(`${sut.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sut.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Flash sale',
        venue: 'Arena',
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        capacity: o.seats,
        price: 2500,
        maxTicketsPerUser: 1,
      }),
    })
  ).json()) as { id: string };
  const ids = Array.from({ length: o.people }, () => randomUUID());
  for (let i = 0; i < ids.length; i += 5000) {
    const chunk = ids.slice(i, i + 5000);
    await db.query(
      `INSERT INTO users (id, email, name, password_hash) SELECT id, id::text || '@bench.test', 'bench', 'x' FROM unnest($1::uuid[]) AS id`,
      [chunk],
    );
  }
  const tokens = ids.map((id) => jwt(config.jwtSecret, id));

  const child = fork(new URL('./waitroom-crowd.js', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const spec: WaitroomCrowdSpec = {
    url: sut.url,
    referenceUrl,
    eventId: ev.id,
    tokens,
    sockets: o.sockets,
    joinConcurrency: 256,
    // As many as the closed poll loop this crowd had before pollers followed pollAfterSeconds: with 256
    // the polls came in bursts that held the edge's loop (p99 141–218 ms against 51–77).
    pollConcurrency: 50,
    pollMs: o.pollMs,
    saleMs: 180_000,
    cheaters: 200,
  };
  let opensAt = Number.NaN;
  let saleBefore: SaleSeries | undefined;
  // The edge runs on this process's main thread: its loop delay during the sale.
  const edgeLoop = monitorEventLoopDelay({ resolution: 10 });
  let edgeElu = performance.eventLoopUtilization();
  // The edge's garbage collections during the sale: a long pause holds every request in flight.
  const gcMs: number[] = [];
  const longGc: { ms: number; kind: string }[] = [];
  const gcKinds: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };
  const gcWatch = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs.push(e.duration);
      const kind = (e.detail as { kind?: number } | undefined)?.kind ?? 0;
      if (e.duration > 20) longGc.push({ ms: Math.round(e.duration), kind: gcKinds[kind] ?? String(kind) });
    }
  });
  const result = await new Promise<WaitroomCrowdResult>((resolve, reject) => {
    let watch: NodeJS.Timeout | undefined;
    child.on('message', (m: FromWaitroomCrowd) => {
      if (m.kind === 'referenced') {
        // The room opens only now, so the reference pass takes nothing from the join window.
        opensAt = Date.now() + o.joinWindow * 1000 + 3000;
        void fetch(`${sut.url}/v1/events/${ev.id}/waiting-room`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${sut.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ opensAt: new Date(opensAt).toISOString() }),
        })
          .then(async (put) => {
            if (put.status !== 200) throw new Error(`room: ${put.status} ${await put.text()}`);
            child.send({ opensAt } satisfies WaitroomCrowdGo);
          })
          .catch(reject);
      }
      if (m.kind === 'joined') {
        console.error(`  crowd joined; sale opens in ${((opensAt - Date.now()) / 1000).toFixed(1)} s`);
        void readSaleSeries(sut.url).then((s) => (saleBefore = s));
        edgeLoop.enable();
        gcWatch.observe({ entryTypes: ['gc'] });
        edgeElu = performance.eventLoopUtilization();
        watch = setInterval(() => {
          void db
            .query<{ n: number }>(
              `SELECT count(*)::int AS n FROM bookings WHERE event_id = $1 AND status = 'confirmed'`,
              [ev.id],
            )
            .then(({ rows }) => {
              if ((rows[0]?.n ?? 0) >= o.seats) {
                child.send('stop');
                clearInterval(watch);
              }
            });
        }, 1000);
      }
      if (m.kind === 'done') {
        clearInterval(watch);
        resolve(m.result);
      }
      if (m.kind === 'failed') {
        clearInterval(watch);
        reject(new Error(m.message));
      }
    });
    child.send(spec);
  }).finally(() => {
    if (child.connected) child.disconnect();
    child.kill();
  });
  edgeLoop.disable();
  gcWatch.disconnect();
  const edge = {
    gc: {
      count: gcMs.length,
      totalMs: Math.round(gcMs.reduce((a, b) => a + b, 0)),
      maxMs: +Math.max(0, ...gcMs).toFixed(1),
      over20Ms: longGc,
      heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1e6),
    },
    loopDelayP99Ms: Math.round(edgeLoop.percentile(99) / 1e6),
    loopDelayMaxMs: Math.round(edgeLoop.max / 1e6),
    loopUtilisation: +performance.eventLoopUtilization(edgeElu).utilization.toFixed(3),
    sale: saleBefore ? saleSeriesBetween(saleBefore, await readSaleSeries(sut.url)) : undefined,
  };
  const seats = expectRow(
    (
      await db.query<{ sold: number; bookings: number; users: number }>(
        `SELECT coalesce(sum(quantity), 0)::int AS sold, count(*)::int AS bookings, count(DISTINCT user_id)::int AS users FROM bookings WHERE event_id = $1 AND status = 'confirmed'`,
        [ev.id],
      )
    ).rows[0],
    'sales',
  );
  const event = expectRow(
    (await db.query<{ available: number }>('SELECT available FROM events WHERE id = $1', [ev.id])).rows[0],
    'event',
  );
  const lastBooking = (
    await db.query<{ at: Date | null }>(`SELECT max(created_at) AS at FROM bookings WHERE event_id = $1`, [ev.id])
  ).rows[0]?.at;
  const soldOutAt = lastBooking?.getTime() ?? Number.NaN;
  const unadmitted = expectRow(
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings b WHERE b.event_id = $1 AND NOT EXISTS (
       SELECT 1 FROM waitroom_tickets t WHERE t.event_id = b.event_id AND t.user_id = b.user_id AND t.admitted_at IS NOT NULL AND t.admitted_at <= b.created_at)`,
        [ev.id],
      )
    ).rows[0],
    'bookings without admission',
  ).n;
  const outOfOrder = expectRow(
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT rank, lag(rank) OVER (ORDER BY admitted_at, rank) AS prev FROM waitroom_tickets WHERE event_id = $1 AND admitted_at IS NOT NULL) x WHERE prev > rank`,
        [ev.id],
      )
    ).rows[0],
    'admissions out of order',
  ).n;
  // When Postgres last vacuumed and analysed the tickets on its own, in s after opensAt: the draw rewrites
  // every rank of the room, and a vacuum or analyse right after it competes with the resync it causes.
  const auto = (
    await db.query<{ vacuum: Date | null; analyze: Date | null }>(
      `SELECT last_autovacuum AS vacuum, last_autoanalyze AS analyze FROM pg_stat_user_tables WHERE relname = 'waitroom_tickets'`,
    )
  ).rows[0];
  const afterOpen = (d: Date | null | undefined) => (d ? +((d.getTime() - opensAt) / 1000).toFixed(1) : null);
  const fiveXX = Object.entries({ ...result.joinStatuses })
    .concat(
      Object.entries(result.bookStatuses),
      Object.entries(result.pollStatuses),
      Object.entries(result.cheatStatuses),
    )
    .filter(([k]) => k.startsWith('5') || k === 'error')
    .reduce((n, [, v]) => n + v, 0);
  const uniform = positionChiSquare(8, 8000);
  const frames = result.frameMs;
  const joinPerSecond = o.people / result.joinSeconds;
  const referencePerSecond = o.people / result.referenceSeconds;
  return {
    sockets: result.socketsOpen,
    join: {
      seconds: +result.joinSeconds.toFixed(1),
      perSecond: Math.round(joinPerSecond),
      statuses: result.joinStatuses,
      referencePerSecond: Math.round(referencePerSecond),
      ratioToReference: +(joinPerSecond / referencePerSecond).toFixed(3),
    },
    sale: {
      secondsToSellOut: +((soldOutAt - opensAt) / 1000).toFixed(1),
      sold: seats.sold,
      bookings: seats.bookings,
      distinctUsers: seats.users,
      available: event.available,
    },
    bookedWithoutAdmission: unadmitted,
    admittedOutOfDrawnOrder: outOfOrder,
    fiveXX,
    failedAtSecondsAfterOpen: result.failedAt.slice(0, 20),
    booking: {
      statuses: result.bookStatuses,
      p50: +pct(result.bookingMs, 50).toFixed(1),
      p99: +pct(result.bookingMs, 99).toFixed(1),
      bySecondsAfterOpen: bookingTimeline(result),
      byVia: bookingByVia(result),
    },
    /** During the sale (from the crowd's last join to the end): what the edge saw, and the crowd's own loop. */
    edge,
    client: result.saleLoop,
    cheaters: result.cheatStatuses,
    polls: { count: result.polls, statuses: result.pollStatuses },
    frames: {
      count: frames.length,
      admitted: result.admittedFrames,
      p50: pct(frames, 50),
      p99: pct(frames, 99),
      within1s: +(frames.filter((f) => f <= 1000).length / Math.max(1, frames.length)).toFixed(4),
      lateBySecondAfterOpen: result.lateFramesBySecond,
    },
    ticketsAutovacuumAfterOpenS: afterOpen(auto?.vacuum),
    ticketsAutoanalyzeAfterOpenS: afterOpen(auto?.analyze),
    uniformity: {
      positionChiSquare8x8000: +uniform.chi2.toFixed(1),
      df: uniform.df,
      critical999: 85.4,
      joinVsDrawDecilesChiSquare: +(await drawIndependence(db, ev.id)).toFixed(1),
      dfDeciles: 81,
      critical999Deciles: 126.1,
    },
  };
}

/** Booking latency by when it was sent (5 s windows after opensAt): where in the sale the slow ones are. */
function bookingTimeline(r: WaitroomCrowdResult): { fromS: number; count: number; p50: number; p99: number }[] {
  const windows = new Map<number, number[]>();
  r.bookingSentMs.forEach((sent, i) => {
    const from = Math.floor(sent / 5000) * 5;
    const ms = r.bookingMs[i];
    if (ms === undefined) return;
    windows.set(from, [...(windows.get(from) ?? []), ms]);
  });
  return [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([fromS, xs]) => ({ fromS, count: xs.length, p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1) }));
}

/** Booking latency by how the booker learned of the admission: a socket's frame or a poll. */
function bookingByVia(r: WaitroomCrowdResult): Record<string, { count: number; p50: number; p99: number }> {
  const by = new Map<string, number[]>();
  r.bookingVia.forEach((via, i) => {
    const ms = r.bookingMs[i];
    if (ms !== undefined) by.set(via, [...(by.get(via) ?? []), ms]);
  });
  return Object.fromEntries(
    [...by].map(([via, xs]) => [via, { count: xs.length, p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1) }]),
  );
}

/** The figures a reader compares: medians over the runs; the guarantees must hold in every run (worst run shown). */
function summarise(runs: readonly RunResult[]) {
  const m = (f: (r: RunResult) => number) => median(runs.map(f));
  const worst = (f: (r: RunResult) => number) => Math.max(...runs.map(f));
  return {
    joinSeconds: m((r) => r.join.seconds),
    joinPerSecond: m((r) => r.join.perSecond),
    referencePerSecond: m((r) => r.join.referencePerSecond),
    joinRatioToReference: m((r) => r.join.ratioToReference),
    secondsToSellOut: m((r) => r.sale.secondsToSellOut),
    everySeatSoldOnce: runs.every((r) => r.sale.sold === r.sale.distinctUsers && r.sale.available === 0),
    bookedWithoutAdmission: worst((r) => r.bookedWithoutAdmission),
    admittedOutOfDrawnOrder: worst((r) => r.admittedOutOfDrawnOrder),
    fiveXX: worst((r) => r.fiveXX),
    bookingP50: m((r) => r.booking.p50),
    bookingP99: m((r) => r.booking.p99),
    polls: m((r) => r.polls.count),
    framesP99: m((r) => r.frames.p99),
    framesWithin1s: m((r) => r.frames.within1s),
    positionChiSquare8x8000: m((r) => r.uniformity.positionChiSquare8x8000),
    joinVsDrawDecilesChiSquare: m((r) => r.uniformity.joinVsDrawDecilesChiSquare),
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(usage);
    return;
  }
  const o = args(process.argv.slice(2));
  const reference = await startReference();
  try {
    await withSystem('waitroom', { batching: true, kdfCost: 10 }, async (sut) => {
      const db = new pg.Pool({ connectionString: sut.system.config.databaseUrl, max: 4 });
      try {
        const runs: RunResult[] = [];
        for (let i = 0; i < o.runs; i++) {
          if (i > 0) await mailSent(db);
          const r = await oneRun(sut, db, reference.url, o);
          runs.push(r);
          console.error(
            `  run ${i + 1}: ${r.join.perSecond} joins/s (reference ${r.join.referencePerSecond} req/s), ` +
              `booking p99 ${r.booking.p99} ms (edge ${String(r.edge.sale?.bookingRoute.p99Ms)} ms, ` +
              `inventory.book ${String(r.edge.sale?.inventoryBook.p99Ms)} ms, positions ${String(r.edge.sale?.positions.count)} calls p99 ${String(r.edge.sale?.positions.p99Ms)} ms, account states ${String(r.edge.sale?.accountStates.count)} calls p99 ${String(r.edge.sale?.accountStates.p99Ms)} ms), frames within 1 s ${r.frames.within1s}, ` +
              `${r.polls.count} polls; ` +
              `loop p99 edge ${r.edge.loopDelayP99Ms} ms, crowd ${r.client.delayP99Ms} ms; ` +
              `edge GC ${r.edge.gc.count} pauses, ${r.edge.gc.totalMs} ms, over 20 ms: ${r.edge.gc.over20Ms.map((g) => `${g.ms} ${g.kind}`).join(', ') || 'none'}; heap ${r.edge.gc.heapUsedMb} MB`,
          );
          if (Object.keys(r.frames.lateBySecondAfterOpen).length > 0)
            console.error(
              `    frames over 1 s late, by the second of their change after opensAt: ${JSON.stringify(r.frames.lateBySecondAfterOpen)}; ` +
                `tickets last autovacuum ${r.ticketsAutovacuumAfterOpenS} s, autoanalyze ${r.ticketsAutoanalyzeAfterOpenS} s after opensAt; ` +
                `crowd stalls ${JSON.stringify(r.client.stalls)}, long GC ${JSON.stringify(r.client.longGc)}`,
            );
          console.error(
            `    booking by seconds after opensAt: ${r.booking.bySecondsAfterOpen.map((w) => `${w.fromS}s n=${w.count} p50 ${w.p50} p99 ${w.p99}`).join(' | ')}`,
          );
          console.error(
            `    booking by how the admission was learned: ${Object.entries(r.booking.byVia)
              .map(([via, v]) => `${via} n=${v.count} p50 ${v.p50} p99 ${v.p99}`)
              .join(' | ')}`,
          );
        }
        const report = {
          people: o.people,
          sockets: o.sockets,
          seats: o.seats,
          runs: o.runs,
          pollMs: o.pollMs,
          median: summarise(runs),
          each: runs,
        };
        console.log(JSON.stringify(report, null, 2));
      } finally {
        await db.end();
      }
    });
  } finally {
    await reference.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
