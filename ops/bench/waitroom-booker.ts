// The booking client of the waiting-room benchmark, forked by the crowd: the
// crowd hands it each admitted person's admission and it books at once. Real
// people book from their own device, so nothing queues in front of their
// request but the network; here the crowd's own process (20,000 people, their
// sockets and polls) is busy enough that its event loop delay (p99 70-130 ms)
// would be measured as booking latency. This process does nothing else, so
// its loop is idle when a booking is sent and when its answer arrives.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface BookerSpec {
  url: string;
  eventId: string;
  opensAt: number;
}

/** How the person learned of their admission: an `admitted` frame on their socket, or a poll. */
export type BookedVia = 'socket' | 'poll';

export type ToBooker =
  | { kind: 'spec'; spec: BookerSpec }
  | { kind: 'book'; token: string; admission: string; via: BookedVia }
  | { kind: 'finish' };

export interface BookerResult {
  bookStatuses: Record<string, number>;
  bookingMs: number[];
  /** When each booking of `bookingMs` was sent, in ms after opensAt (same order). */
  bookingSentMs: number[];
  /** How each booker learned of the admission (same order). */
  bookingVia: BookedVia[];
  /** Seconds after opensAt of each 5xx or failed booking. */
  failedAt: number[];
}

export type FromBooker = { kind: 'ready' } | { kind: 'done'; result: BookerResult };

/** To the crowd that forked this process (it always has an IPC channel). */
function tell(m: FromBooker, then?: () => void): void {
  if (!process.send) throw new Error('the booking client runs only as a forked child');
  process.send(m, then);
}

const result: BookerResult = { bookStatuses: {}, bookingMs: [], bookingSentMs: [], bookingVia: [], failedAt: [] };
const inFlight = new Set<Promise<void>>();
let spec: BookerSpec | undefined;
/**
 * Keep-alive connections, undici's request API (as the crowd): fetch's Request/Response objects cost
 * this process ~0.8 ms of CPU a booking, a tenth of a core in the sale's peak, on the server's cores.
 */
let pool: Pool | undefined;

async function book(s: BookerSpec, token: string, admission: string, via: BookedVia): Promise<void> {
  const started = performance.now();
  const sentMs = Date.now() - s.opensAt;
  pool ??= new Pool(new URL(s.url).origin, { connections: 200 });
  const res = await pool
    .request({
      path: `/v1/events/${s.eventId}/bookings`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'evently-admission': admission },
      body: JSON.stringify({ quantity: 1 }),
    })
    .catch(() => undefined);
  await res?.body.dump();
  result.bookingMs.push(performance.now() - started);
  result.bookingSentMs.push(sentMs);
  result.bookingVia.push(via);
  const status = res?.statusCode ?? 'error';
  result.bookStatuses[status] = (result.bookStatuses[status] ?? 0) + 1;
  if (res === undefined || res.statusCode >= 500) result.failedAt.push(+((Date.now() - s.opensAt) / 1000).toFixed(1));
}

// The parent is gone (a Ctrl-C on the bench) or this process said its last word: nobody is left to
// report to, so stop loading the system rather than run on as an orphan.
process.once('disconnect', () => process.exit(0));
process.on('message', (m: ToBooker) => {
  if (m.kind === 'spec') {
    spec = m.spec;
    tell({ kind: 'ready' });
  } else if (m.kind === 'book' && spec) {
    const done: Promise<void> = book(spec, m.token, m.admission, m.via).finally(() => inFlight.delete(done));
    inFlight.add(done);
  } else if (m.kind === 'finish') {
    void Promise.all(inFlight).then(() => tell({ kind: 'done', result }, () => process.disconnect()));
  }
});
