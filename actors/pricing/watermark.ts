// How far the facts of a shard have reached pricing: the watermark that says
// when boundary B may be weighed. Not the clock: on a loaded machine the
// consumer that records demand can run seconds behind the sale, and a
// boundary weighed before the bookings that occurred by it arrived is priced
// from incomplete demand (and differs from a replay of the stream).
//
// A look at a shard, in this order, gives a probe (at, seq):
//   (a) no outbox row of the shard created by `at` is still unpublished
//       (a row's created_at is its transaction's start, so never later than
//       the occurredAt of its events), so every event that occurred by `at`
//       and has committed is in the stream;
//   (b) the stream's last sequence of the shard's subjects, read after (a),
//       is `seq`: those events are at or before it;
//   (c) once the pricing consumer's ack floor reaches `seq`, every one of them
//       has been applied (the batch consumer acks only after its transaction
//       committed), and the watermark moves to `at`.
// A transaction still open at B is not yet in the outbox: the settle time
// (EVENTLY_PRICING_SETTLE_MS) waits for those, and `at` is never later than
// now minus the settle time. A probe is taken on every sweep while a boundary
// of the shard is due, so the watermark keeps moving during a sustained sale,
// each probe met as soon as the consumer has acked through the stream's end
// as it was when the probe was taken, however much arrived since.
import { NatsError, type JetStreamManager } from 'nats';
import type { Pool } from 'pg';
import { DOMAIN_STREAM, domainShardFilter } from '../../protocol/index.js';
import { durableName } from '../../platform/domain-stream.js';

/** Every event of the shard that occurred by `at` is in the stream at or before `seq`. */
export interface Probe {
  at: number;
  seq: number;
}

/** Probes kept per shard while the consumer is behind; past that the newest one is moved on instead. */
const MAX_PROBES = 16;

/** One shard's watermark: every domain event of the shard that occurred by `mark()` has been applied. */
export class ShardWatermark {
  private reached = -Infinity;
  private readonly probes: Probe[] = [];

  mark(): number {
    return this.reached;
  }

  /** Notes a look at the shard; probes come in the order they were taken, so their `seq` never falls. */
  probe(p: Probe): void {
    const last = this.probes.at(-1);
    if (last && (last.seq === p.seq || this.probes.length >= MAX_PROBES)) {
      last.at = Math.max(last.at, p.at);
      last.seq = p.seq;
    } else {
      this.probes.push({ ...p });
    }
  }

  /** Moves the watermark past every probe the consumer has acknowledged through; returns it. */
  acked(ackFloor: number): number {
    for (let met = this.probes[0]; met && met.seq <= ackFloor; met = this.probes[0]) {
      this.probes.shift();
      // A transaction that outlived the settle time can make a later probe's `at` earlier: never go back.
      this.reached = Math.max(this.reached, met.at);
    }
    return this.reached;
  }
}

/** The watermarks of the shards a pricing thread owns, moved on by looking at the outbox, stream and consumer. */
export class Watermarks {
  private readonly shards = new Map<number, ShardWatermark>();

  constructor(
    private readonly pool: Pool,
    private readonly jsm: JetStreamManager,
    private readonly consumer: string,
  ) {}

  /** Looks at these shards once (probes at `settled` at the latest) and returns each one's watermark. */
  async look(shards: readonly number[], settled: number): Promise<Map<number, number>> {
    const oldest = await this.oldestUnpublished(shards, settled);
    const marks = new Map<number, number>();
    for (const shard of shards) {
      const unpublished = oldest.get(shard);
      const at = unpublished === undefined ? settled : Math.min(settled, unpublished - 1);
      const seq = await this.lastSequence(shard);
      const info = await this.jsm.consumers.info(DOMAIN_STREAM, durableName(this.consumer, shard));
      let mark = this.shards.get(shard);
      if (!mark) this.shards.set(shard, (mark = new ShardWatermark()));
      mark.probe({ at, seq });
      marks.set(shard, mark.acked(info.ack_floor.stream_seq));
    }
    return marks;
  }

  /** The created_at (epoch ms) of each shard's oldest outbox row still waiting for the relay, if by `settled`. */
  private async oldestUnpublished(shards: readonly number[], settled: number): Promise<Map<number, number>> {
    const { rows } = await this.pool.query<{ shard: number; oldest: Date }>({
      name: 'pricing.oldest-unpublished',
      text: `SELECT shard, min(created_at) AS oldest FROM outbox
             WHERE shard = ANY($1::int[]) AND created_at <= $2 GROUP BY shard`,
      values: [shards, new Date(settled)],
    });
    return new Map(rows.map((r) => [r.shard, r.oldest.getTime()]));
  }

  /** The stream sequence of the shard's newest message; 0 when it has none. */
  private async lastSequence(shard: number): Promise<number> {
    try {
      return (await this.jsm.streams.getMessage(DOMAIN_STREAM, { last_by_subj: domainShardFilter(shard) })).seq;
    } catch (err) {
      if (err instanceof NatsError && err.api_error?.code === 404) return 0;
      throw err;
    }
  }
}
