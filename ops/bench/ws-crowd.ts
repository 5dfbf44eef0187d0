// The crowd of the WebSocket fan-out benchmark, forked into its own process
// so that the server's event loop is measured alone: N idle clients watching
// one event. For each round it publishes one domain event on NATS (as the
// outbox does) and times publish → each client's frame, all on this
// process's clock. Talks to the parent over the fork IPC channel.
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { WebSocket } from 'ws';
import { domainSubject, shardOf, type DomainEventOf } from '../../protocol/index.js';

export interface CrowdSpec {
  url: string;
  natsUrl: string;
  /** The supervisor user's password (the bench publishes domain events as the system would). */
  natsPass?: string;
  shards: number;
  eventId: string;
  clients: number;
  rounds: number;
  firstVersion: number;
  /** Evently sends a snapshot on subscribe; a client is ready once it has it. The bare reference sends none. */
  awaitSnapshot: boolean;
}

export interface CrowdResult {
  /** Per round: publish → the last client's frame, ms. */
  lastMs: number[];
  deliveryP50: number;
  deliveryP99: number;
  missed: number;
  nextVersion: number;
}

export type ToCrowd = { kind: 'start'; spec: CrowdSpec } | { kind: 'go' };
export type FromCrowd =
  { kind: 'connected' } | { kind: 'done'; result: CrowdResult } | { kind: 'failed'; message: string };

const CONNECT_CONCURRENCY = 200;
const ROUND_TIMEOUT_MS = 10_000;
const PAUSE_BETWEEN_ROUNDS_MS = 20;
/** Unrecorded rounds first: JIT and first-use allocations would otherwise land in the p99. */
const WARMUP_ROUNDS = 5;

const send = (m: FromCrowd) => process.send!(m);
const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function run(spec: CrowdSpec): Promise<void> {
  const wsUrl = `${spec.url.replace(/^http/, 'ws')}/ws`;
  const sockets: WebSocket[] = [];
  let target = -1;
  let pending = 0;
  let roundStart = 0;
  let roundDone: () => void = () => undefined;
  const arrival = new Float64Array(spec.clients);

  const connectOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      sockets[i] = ws;
      let ready = false;
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; version?: number };
        if (!ready) {
          if (m.type === 'availability') {
            ready = true;
            resolve();
          }
          return;
        }
        if (m.type === 'availability' && m.version === target && arrival[i] === 0) {
          arrival[i] = performance.now() - roundStart;
          if (--pending === 0) roundDone();
        }
      });
      ws.once('open', () => {
        ws.send(JSON.stringify({ type: 'subscribe', eventIds: [spec.eventId] }));
        if (!spec.awaitSnapshot) {
          ready = true;
          resolve();
        }
      });
      ws.once('error', reject);
    });
  for (let i = 0; i < spec.clients; i += CONNECT_CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(CONNECT_CONCURRENCY, spec.clients - i) }, (_, j) => connectOne(i + j)),
    );
  }
  const nc = await connect({
    servers: spec.natsUrl,
    user: spec.natsPass ? 'supervisor' : undefined,
    pass: spec.natsPass,
    noAsyncTraces: true,
  });
  send({ kind: 'connected' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  const lastMs: number[] = [];
  const deliveries = new Float64Array(spec.rounds * spec.clients);
  let delivered = 0;
  let missed = 0;
  let version = spec.firstVersion;
  const subject = domainSubject('seats.released', shardOf(spec.eventId, spec.shards));
  for (let r = -WARMUP_ROUNDS; r < spec.rounds; r++, version++) {
    arrival.fill(0);
    target = version;
    pending = spec.clients;
    const event: DomainEventOf<'seats.released'> = {
      id: crypto.randomUUID(),
      type: 'seats.released',
      eventId: spec.eventId,
      version,
      occurredAt: new Date().toISOString(),
      requestId: `bench-${r}`,
      availability: { available: version, held: 0, capacity: 1_000_000, price: 2500, status: 'scheduled' },
      data: { quantity: 1, reason: 'booking-cancelled', toWaitlist: 0 },
    };
    const done = new Promise<void>((resolve) => {
      roundDone = resolve;
    });
    roundStart = performance.now();
    nc.publish(subject, JSON.stringify(event));
    const timer = setTimeout(() => roundDone(), ROUND_TIMEOUT_MS);
    await done;
    await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_ROUNDS_MS));
    clearTimeout(timer);
    if (r < 0) continue;
    missed += pending;
    let last = 0;
    for (const t of arrival)
      if (t > 0) {
        deliveries[delivered++] = t;
        last = Math.max(last, t);
      }
    lastMs.push(last);
  }
  const sorted = deliveries.subarray(0, delivered).sort();
  send({
    kind: 'done',
    result: {
      lastMs,
      deliveryP50: percentile(sorted, 50),
      deliveryP99: percentile(sorted, 99),
      missed,
      nextVersion: version,
    },
  });
  await nc.close();
  for (const ws of sockets) ws.terminate();
}

process.once('message', (m: ToCrowd) => {
  if (m.kind !== 'start') return;
  run(m.spec).catch((err: unknown) => send({ kind: 'failed', message: (err as Error).stack ?? String(err) }));
});
