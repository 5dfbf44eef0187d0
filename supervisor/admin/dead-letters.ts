// The operator's side of the dead-letter table (platform/dead-letters.ts
// is the consumers' side): list what consumers gave up on, and replay one
// after a fix by publishing its payload to its subject again through
// JetStream, so its stream stores it and its consumer gets it anew.
import { headers as natsHeaders, type JetStreamClient } from 'nats';
import type { Pool } from 'pg';
import {
  ok,
  refuse,
  type DeadLetterView,
  type DeadLettersQuery,
  type DeadLettersReply,
  type Outcome,
} from '../../protocol/index.js';

// A replay is a new message: the stream's duplicate window must not drop it as
// the original, and an expectation about the stream's last message no longer holds.
const NOT_REPLAYED = /^nats-(msg-id|expected-)/i;

interface Row {
  id: string;
  consumer: string;
  stream: string;
  subject: string;
  stream_seq: string;
  reason: string;
  payload: Buffer;
  headers: Record<string, string[]>;
  deliveries: number;
  first_seen: Date;
  last_seen: Date;
  replayed_at: Date | null;
}

const COLUMNS =
  'id, consumer, stream, subject, stream_seq, reason, payload, headers, deliveries, first_seen, last_seen, replayed_at';

function view(r: Row): DeadLetterView {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(r.payload);
  const utf8 = Buffer.from(text, 'utf8').equals(r.payload);
  return {
    id: Number(r.id),
    consumer: r.consumer,
    stream: r.stream,
    subject: r.subject,
    streamSeq: Number(r.stream_seq),
    reason: r.reason,
    payload: utf8 ? text : r.payload.toString('base64'),
    payloadEncoding: utf8 ? 'utf8' : 'base64',
    headers: r.headers,
    deliveries: r.deliveries,
    firstSeen: r.first_seen.toISOString(),
    lastSeen: r.last_seen.toISOString(),
    replayedAt: r.replayed_at?.toISOString() ?? null,
  };
}

export interface DeadLetterAdmin {
  list(query: DeadLettersQuery): Promise<DeadLettersReply>;
  replay(id: number): Promise<Outcome<DeadLetterView>>;
}

export function deadLetterAdmin(db: Pool, js: () => JetStreamClient): DeadLetterAdmin {
  return {
    async list({ consumer, limit = 100 }) {
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM dead_letters WHERE ($1::text IS NULL OR consumer = $1) ORDER BY id DESC LIMIT $2`,
        [consumer ?? null, limit],
      );
      return { deadLetters: rows.map(view) };
    },

    async replay(id) {
      const {
        rows: [row],
      } = await db.query<Row>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
      if (!row) return refuse('NOT_FOUND', `no dead letter ${id}`);
      const h = natsHeaders();
      for (const [name, values] of Object.entries(row.headers)) {
        if (!NOT_REPLAYED.test(name)) for (const value of values) h.append(name, value);
      }
      try {
        await js().publish(row.subject, row.payload, { headers: h });
      } catch (err) {
        return refuse('UNAVAILABLE', `could not publish to ${row.subject}: ${(err as Error).message}`);
      }
      const {
        rows: [replayed],
      } = await db.query<Row>(`UPDATE dead_letters SET replayed_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      return ok(view(replayed!));
    },
  };
}
