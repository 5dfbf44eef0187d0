// The crowd of the waiting-room benchmark, forked into its own process: every
// person joins the room (HTTP), the first `sockets` of them follow their place
// over /ws, the rest poll their ticket, each when its last answer said
// (`pollAfterSeconds`, or a refusal's Retry-After), never sooner than `pollMs`
// after its last ask; whoever is admitted books at once with the admission,
// sent by a booking client of its own (waitroom-booker.ts).
// A sample of people not yet admitted also try to book without
// one (they must get 403). Reports statuses, booking latency of admitted
// people and queue-frame latency (room change → frame, same machine clock).
import { fork } from 'node:child_process';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import type { BookedVia, FromBooker, ToBooker } from './waitroom-booker.js';

export interface WaitroomCrowdSpec {
  url: string;
  /** A bare Fastify server: the crowd first sends it as many requests as it will join, the same way. */
  referenceUrl: string;
  eventId: string;
  tokens: string[];
  sockets: number;
  /** Joins in flight at once. */
  joinConcurrency: number;
  /** Polls in flight at once: a crowd told the same second queues in the client. */
  pollConcurrency: number;
  /** The least time between two asks of one poller. */
  pollMs: number;
  /** Stop after this long past opensAt whatever happened. */
  saleMs: number;
  cheaters: number;
}

/** Sent once the reference pass is done: the room is on and opens at `opensAt`; join now. */
export interface WaitroomCrowdGo {
  opensAt: number;
}

export interface WaitroomCrowdResult {
  /** The same number of requests, same client and concurrency, to the bare reference server. */
  referenceSeconds: number;
  joinSeconds: number;
  joinStatuses: Record<string, number>;
  socketsOpen: number;
  bookStatuses: Record<string, number>;
  bookingMs: number[];
  /** When each booking was sent, ms after opensAt (same order as bookingMs). */
  bookingSentMs: number[];
  /** How each booker learned of the admission (same order as bookingMs). */
  bookingVia: BookedVia[];
  frameMs: number[];
  /** Frames over 1 s late, counted by the second after opensAt of the change they report. */
  lateFramesBySecond: Record<string, number>;
  admittedFrames: number;
  cheatStatuses: Record<string, number>;
  /** Polls made during the sale (GET .../waiting-room/me), and their answers. */
  polls: number;
  pollStatuses: Record<string, number>;
  /** Seconds after opensAt of each 5xx or failed request during the sale (polls and bookings). */
  failedAt: number[];
  /** The crowd's own event loop during the sale: a busy client measures its own queueing as latency. */
  saleLoop: {
    delayP99Ms: number;
    delayMaxMs: number;
    utilisation: number;
    /** Turns of this process's loop over 300 ms apart: when (s after opensAt) and how long. */
    stalls: { atS: number; ms: number }[];
    /** Its garbage collections over 100 ms: when, how long, which kind. */
    longGc: { atS: number; ms: number; kind: number }[];
  };
}

export type FromWaitroomCrowd =
  | { kind: 'referenced' }
  | { kind: 'joined' }
  | { kind: 'done'; result: WaitroomCrowdResult }
  | { kind: 'failed'; message: string };

/** What the crowd reads of an answer. */
interface Reply {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

const pools = new Map<string, Pool>();

/**
 * One request over a keep-alive pool per origin (undici's request API). The crowd is 20,000 people on
 * the server's own two cores; fetch's Request/Response/stream objects made each of its ~17,000 polls
 * and 20,000 joins cost the client far more than the server, and the crowd's process took about a
 * fifth of the machine from the system it measures. The reference pass uses the same client.
 */
async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const u = new URL(url);
  let pool = pools.get(u.origin);
  if (!pool) pools.set(u.origin, (pool = new Pool(u.origin, { connections: 300 })));
  const res = await pool.request({
    path: u.pathname + u.search,
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
  });
  return {
    status: res.statusCode,
    ok: res.statusCode >= 200 && res.statusCode < 300,
    headers: {
      get: (name: string) => {
        const v = res.headers[name.toLowerCase()];
        return (Array.isArray(v) ? v[0] : v) ?? null;
      },
    },
    json: () => res.body.json(),
    arrayBuffer: () => res.body.arrayBuffer(),
  } satisfies Reply;
}

/** When the crowd stops: opensAt + saleMs, or at once when the parent says every seat is sold. */
let until = Number.POSITIVE_INFINITY;
/**
 * Each waiting poller's timer and how to wake it, so that a stop ends every wait at once. Not an
 * AbortSignal per wait: adding a listener to an EventTarget checks the ones it has, so 15,000 pollers
 * starting their waits together held this process's loop for 1.4-2.5 s, and a stall that fell on the
 * draw made every socket read its new place over a second late.
 */
const sleepers = new Map<NodeJS.Timeout, () => void>();
function sleepFor(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sleepers.delete(timer);
      resolve();
    }, ms);
    sleepers.set(timer, resolve);
  });
}
let go: (m: WaitroomCrowdGo) => void = () => undefined;
const opened = new Promise<WaitroomCrowdGo>((resolve) => {
  go = resolve;
});
process.on('message', (m: unknown) => {
  if (m === 'stop') {
    until = Date.now();
    for (const [timer, wake] of sleepers) {
      clearTimeout(timer);
      wake();
    }
    sleepers.clear();
  }
  if (typeof m === 'object' && m !== null && 'opensAt' in m) go(m as WaitroomCrowdGo);
});

const count = (m: Record<string, number>, k: number | string) => {
  m[k] = (m[k] ?? 0) + 1;
};

async function run(s: WaitroomCrowdSpec): Promise<void> {
  const r: WaitroomCrowdResult = {
    referenceSeconds: 0,
    joinSeconds: 0,
    joinStatuses: {},
    socketsOpen: 0,
    bookStatuses: {},
    bookingMs: [],
    bookingSentMs: [],
    bookingVia: [],
    frameMs: [],
    lateFramesBySecond: {},
    admittedFrames: 0,
    cheatStatuses: {},
    polls: 0,
    pollStatuses: {},
    saleLoop: { delayP99Ms: 0, delayMaxMs: 0, utilisation: 0, stalls: [], longGc: [] },
    failedAt: [],
  };
  const tokenOf = (user: number): string => {
    const token = s.tokens[user];
    if (token === undefined) throw new Error(`no user ${user} in a crowd of ${s.tokens.length}`);
    return token;
  };
  const api = async (
    method: string,
    path: string,
    user: number,
    headers: Record<string, string> = {},
    body?: unknown,
  ) =>
    send(s.url + path, {
      method,
      headers: {
        authorization: `Bearer ${tokenOf(user)}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const room = `/v1/events/${s.eventId}/waiting-room`;
  const booked = new Set<number>();
  // Bookings go out from a process of their own (waitroom-booker.ts): this one's loop is too busy.
  const booker = fork(new URL('./waitroom-booker.js', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const bookerSaid = (kind: FromBooker['kind']) =>
    new Promise<FromBooker>((resolve, reject) => {
      const gone = (code: number | null) => reject(new Error(`the booking client exited (${code}) before '${kind}'`));
      const on = (m: FromBooker) => {
        if (m.kind !== kind) return;
        booker.off('message', on).off('exit', gone);
        resolve(m);
      };
      booker.on('message', on).once('exit', gone);
    });
  const book = (i: number, admission: string, via: BookedVia) => {
    if (booked.has(i)) return;
    booked.add(i);
    booker.send({ kind: 'book', token: tokenOf(i), admission, via } satisfies ToBooker);
  };

  /** Every person sends one request through `concurrency` lanes; seconds until all answered. */
  const crowdOnce = async (ask: (i: number) => Promise<Reply | undefined>, statuses: Record<string, number>) => {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: s.joinConcurrency }, async () => {
        while (next < s.tokens.length) {
          const i = next++;
          const res = await ask(i).catch(() => undefined);
          count(statuses, res?.status ?? 'error');
          await res?.arrayBuffer();
        }
      }),
    );
    return (performance.now() - started) / 1000;
  };
  const reference = (i: number) => send(s.referenceUrl, { headers: { authorization: `Bearer ${tokenOf(i)}` } });
  r.referenceSeconds = await crowdOnce(reference, {});
  process.send!({ kind: 'referenced' } satisfies FromWaitroomCrowd);
  const { opensAt } = await opened;
  const noteFailure = (status: number | undefined) => {
    if (status === undefined || status >= 500) r.failedAt.push(+((Date.now() - opensAt) / 1000).toFixed(1));
  };
  // A joiner's first poll is when its join's Retry-After says (in the pre-queue: about opensAt).
  const nextPollAt = new Array<number>(s.tokens.length).fill(0);
  r.joinSeconds = await crowdOnce(async (i) => {
    const res = await api('POST', room, i);
    nextPollAt[i] = Date.now() + 1000 * (Number(res.headers.get('retry-after')) || 0);
    return res;
  }, r.joinStatuses);
  process.send!({ kind: 'joined' } satisfies FromWaitroomCrowd);
  const bookerReady = bookerSaid('ready');
  booker.send({ kind: 'spec', spec: { url: s.url, eventId: s.eventId, opensAt } } satisfies ToBooker);
  await bookerReady;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const elu = performance.eventLoopUtilization();
  // A late frame may be late in this process: note when its loop stood still, and its long collections.
  const stalls: { atS: number; ms: number }[] = [];
  let lastTurn = Date.now();
  const stallWatch = setInterval(() => {
    const now = Date.now();
    if (now - lastTurn > 300) stalls.push({ atS: +((lastTurn - opensAt) / 1000).toFixed(1), ms: now - lastTurn });
    lastTurn = now;
  }, 50);
  const longGc: { atS: number; ms: number; kind: number }[] = [];
  const gcWatch = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.duration > 100)
        longGc.push({
          atS: +((performance.timeOrigin + e.startTime - opensAt) / 1000).toFixed(1),
          ms: Math.round(e.duration),
          kind: (e.detail as { kind?: number } | undefined)?.kind ?? 0,
        });
  });
  gcWatch.observe({ entryTypes: ['gc'] });

  const wsUrl = `${s.url.replace(/^http/, 'ws')}/ws`;
  const sockets: WebSocket[] = [];
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${tokenOf(i)}` } });
      sockets.push(ws);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; changedAt?: number; token?: string };
        if (m.type === 'queue' || m.type === 'admitted') {
          const late = Date.now() - m.changedAt!;
          r.frameMs.push(late);
          if (late > 1000) count(r.lateFramesBySecond, Math.floor((m.changedAt! - opensAt) / 1000));
        }
        if (m.type === 'admitted') {
          r.admittedFrames++;
          book(i, m.token!, 'socket');
        }
      });
      ws.once('open', () => {
        r.socketsOpen++;
        ws.send(JSON.stringify({ type: 'subscribe-queue', eventId: s.eventId }));
        resolve();
      });
      ws.once('error', () => resolve());
    });
  const withSockets = Math.min(s.sockets, s.tokens.length);
  for (let i = 0; i < withSockets; i += 200)
    await Promise.all(Array.from({ length: Math.min(200, withSockets - i) }, (_, j) => openOne(i + j)));

  // Cheaters: people at the back try to book without an admission right after opensAt.
  const cheat = async () => {
    await new Promise((res) => setTimeout(res, Math.max(0, opensAt - Date.now()) + 500));
    await Promise.all(
      Array.from({ length: Math.min(s.cheaters, s.tokens.length) }, async (_, k) => {
        const res = await api(
          'POST',
          `/v1/events/${s.eventId}/bookings`,
          s.tokens.length - 1 - k,
          {},
          { quantity: 1 },
        ).catch(() => undefined);
        count(r.cheatStatuses, res?.status ?? 'error');
        await res?.arrayBuffer();
      }),
    );
  };
  until = opensAt + s.saleMs;
  // A timer per poller, as real clients: each asks when its last answer said. At most
  // `pollConcurrency` asks are in flight, so a crowd told the same second queues in the client.
  const sleepUntil = (at: number) => sleepFor(Math.max(0, Math.min(at, until) - Date.now()));
  let inFlight = 0;
  const waitingForSlot: (() => void)[] = [];
  const slot = async () => {
    if (inFlight < s.pollConcurrency) inFlight++;
    else await new Promise<void>((res) => waitingForSlot.push(res));
  };
  const release = () => {
    const next = waitingForSlot.shift();
    if (next) next();
    else inFlight--;
  };
  type Ticket = { admission: { token: string } | null; pollAfterSeconds: number | null };
  const askOnce = async (i: number) => {
    await slot();
    try {
      const res = await api('GET', `${room}/me`, i).catch(() => undefined);
      r.polls++;
      count(r.pollStatuses, res?.status ?? 'error');
      noteFailure(res?.status);
      const ticket = res?.ok ? ((await res.json()) as Ticket) : undefined;
      if (!res?.ok) await res?.arrayBuffer();
      return { ticket, retryAfter: Number(res?.headers.get('retry-after')) || 0 };
    } finally {
      release();
    }
  };
  const pollOne = async (i: number) => {
    let at = nextPollAt[i] ?? 0;
    for (;;) {
      await sleepUntil(at);
      if (Date.now() >= until || booked.has(i)) return;
      const asked = Date.now();
      const { ticket, retryAfter } = await askOnce(i);
      if (ticket?.admission) {
        book(i, ticket.admission.token, 'poll');
        return;
      }
      if (ticket && ticket.pollAfterSeconds === null) return; // expired or left: nothing to wait for
      at = Math.max(asked + s.pollMs, Date.now() + 1000 * (ticket?.pollAfterSeconds ?? retryAfter));
    }
  };
  const poll = () =>
    Promise.all(Array.from({ length: s.tokens.length - withSockets }, (_, k) => pollOne(withSockets + k)));
  const waitUntil = async () => {
    while (Date.now() < until) await new Promise((res) => setTimeout(res, 100));
  };
  await Promise.all([cheat(), poll(), waitUntil()]);
  loop.disable();
  clearInterval(stallWatch);
  gcWatch.disconnect();
  r.saleLoop = {
    delayP99Ms: Math.round(loop.percentile(99) / 1e6),
    delayMaxMs: Math.round(loop.max / 1e6),
    utilisation: +performance.eventLoopUtilization(elu).utilization.toFixed(3),
    stalls: stalls.slice(0, 20),
    longGc: longGc.slice(0, 20),
  };
  for (const ws of sockets) ws.terminate();
  for (const pool of pools.values()) void pool.destroy();
  const bookerDone = bookerSaid('done');
  booker.send({ kind: 'finish' } satisfies ToBooker);
  const bookings = (await bookerDone) as Extract<FromBooker, { kind: 'done' }>;
  r.bookStatuses = bookings.result.bookStatuses;
  r.bookingMs = bookings.result.bookingMs;
  r.bookingSentMs = bookings.result.bookingSentMs;
  r.bookingVia = bookings.result.bookingVia;
  r.failedAt.push(...bookings.result.failedAt);
  process.send!({ kind: 'done', result: r } satisfies FromWaitroomCrowd, () => process.disconnect());
}

// The parent is gone (a Ctrl-C on the bench) or this process said its last word: nobody is left to
// report to, so stop loading the system rather than run on as an orphan.
process.once('disconnect', () => process.exit(0));
process.once('message', (spec: WaitroomCrowdSpec) => {
  run(spec).catch((err: unknown) =>
    process.send!({ kind: 'failed', message: (err as Error).stack ?? String(err) } satisfies FromWaitroomCrowd),
  );
});
