// Moves audit batches from JetStream into Postgres. Each message is one
// edge's batch; it is inserted in one statement and acknowledged only after
// the commit, so a crash between the two redelivers it and the insert's
// ON CONFLICT makes the second delivery a no-op. A batch that does not match
// the schema is terminated (and logged) rather than redelivered forever; a
// database error naks it for a later retry.
import type { Pool } from 'pg';
import { AckPolicy, nanos, RetentionPolicy, StorageType, type ConsumerMessages, type NatsConnection } from 'nats';
import { Compile } from 'typebox/compile';
import { AUDIT_CONSUMER, AUDIT_RECORDS_SUBJECT, AUDIT_STREAM, AuditBatch } from '../protocol/index.js';
import type { Logger } from '../runtime/logger.js';
import { insertBatch } from './records.js';

const RETRY_AFTER_MS = 1000;
const KEEP_UNWRITTEN_MS = 7 * 24 * 3600_000;
const checkBatch = Compile(AuditBatch);

/** The stream and its consumer, created if missing (every audit thread may try; both calls are idempotent). */
async function ensureStream(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.info(AUDIT_STREAM).catch(() => jsm.streams.add({
    name: AUDIT_STREAM,
    subjects: [AUDIT_RECORDS_SUBJECT],
    // A batch leaves the stream once written: the table is the record, the stream only a queue.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_age: nanos(KEEP_UNWRITTEN_MS),
    duplicate_window: nanos(120_000),
  }));
  await jsm.consumers.add(AUDIT_STREAM, {
    durable_name: AUDIT_CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: nanos(30_000), max_ack_pending: 1000,
  });
}

export interface AuditWriter { stop(): Promise<void> }

export async function startAuditWriter(nc: NatsConnection, pool: Pool, log: Logger): Promise<AuditWriter> {
  await ensureStream(nc);
  const consumer = await nc.jetstream().consumers.get(AUDIT_STREAM, AUDIT_CONSUMER);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 100 });
  const loop = (async () => {
    for await (const msg of messages) {
      let batch: unknown;
      try {
        batch = msg.json();
      } catch {
        batch = undefined;
      }
      if (!checkBatch.Check(batch)) {
        log.error({ seq: msg.seq, data: msg.string().slice(0, 2000) }, 'audit batch does not match the schema; dropped');
        msg.term('invalid audit batch');
        continue;
      }
      try {
        const inserted = await insertBatch(pool, batch);
        msg.ack();
        log.debug({ records: batch.length, inserted }, 'audit batch written');
      } catch (err) {
        log.warn({ err, records: batch.length }, 'audit batch not written; will retry');
        msg.nak(RETRY_AFTER_MS);
      }
    }
  })();
  return {
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
