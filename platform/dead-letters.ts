// The dead-letter store every JetStream consumer shares: a message it can
// never process (it fails its schema, or a bounded number of deliveries
// failed) is recorded here with the reason, then terminated, so nothing waits
// behind it and nothing is lost. Operators list and replay these through the
// supervisor (GET /dead-letters, POST /dead-letters/:id/replay).
import type { JsMsg } from 'nats';
import { Counter } from 'prom-client';

// The letter's shape and the retry bound live in poison.ts, free of this module's metric, so the
// supervisor's main thread can use them too.
import { MAX_DELIVERIES, type DeadLetter } from './poison.js';

export { deadLetterOf, MAX_DELIVERIES, type DeadLetter } from './poison.js';

/** Anything that runs a parameterised query: a pool, or a client inside a transaction. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

// On the thread's default registry, as every actor series: the supervisor sums the threads.
const deadLettered = new Counter({
  name: 'evently_dead_letters_total',
  help: 'Messages a JetStream consumer gave up on and stored in the dead-letter table, by consumer and reason kind',
  labelNames: ['consumer', 'kind'],
});

/**
 * Stores the message (a second record of the same stream sequence only moves
 * last_seen and the delivery count) and counts it. Call it before `term()`:
 * if this throws, nak the message instead, so it is not lost.
 */
export async function recordDeadLetter(
  db: Queryable,
  d: DeadLetter,
  kind: 'invalid' | 'failing' = 'invalid',
): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO dead_letters (consumer, stream, subject, stream_seq, reason, payload, headers, deliveries)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (stream, consumer, stream_seq) DO UPDATE
       SET last_seen = now(), reason = EXCLUDED.reason, deliveries = GREATEST(dead_letters.deliveries, EXCLUDED.deliveries)
     RETURNING id`,
    [
      d.consumer,
      d.stream,
      d.subject,
      d.streamSeq,
      d.reason.slice(0, 2000),
      Buffer.from(d.payload),
      JSON.stringify(d.headers ?? {}),
      d.deliveries ?? 1,
    ],
  );
  deadLettered.inc({ consumer: d.consumer, kind });
  return Number(rows[0].id);
}

/** Series at 0 for a consumer, so its first dead letter is an increase to alert on, not a new series. */
export function countDeadLettersOf(consumer: string): void {
  for (const kind of ['invalid', 'failing']) deadLettered.inc({ consumer, kind }, 0);
}

/** A message that failed this often is given up on (after recording it). */
export const exhausted = (msg: JsMsg): boolean => msg.info.deliveryCount >= MAX_DELIVERIES;
