// Moves audit batches from JetStream into Postgres. Each message is one
// edge's batch; it is inserted in one statement and acknowledged only after
// the commit, so a crash between the two redelivers it and the insert's
// ON CONFLICT makes the second delivery a no-op. A batch that does not match
// the schema, or that failed MAX_DELIVERIES times, is stored in the
// dead-letter table and terminated rather than redelivered forever; a
// database error naks it for a later retry.
import type { Pool } from 'pg';
import {
  AckPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { Compile } from 'typebox/compile';
import { AUDIT_CONSUMER, AUDIT_RECORDS_SUBJECT, AUDIT_STREAM, AuditBatch } from '../../protocol/index.js';
import { countDeadLettersOf, deadLetterOf, exhausted, recordDeadLetter } from '../../platform/dead-letters.js';
import type { Logger } from '../../platform/logger.js';
import { insertBatch } from './records.js';

const RETRY_AFTER_MS = 1000;
const KEEP_UNWRITTEN_MS = 7 * 24 * 3600_000;
const checkBatch = Compile(AuditBatch);

/** The stream and its consumer, created if missing (every audit thread may try; both calls are idempotent). */
async function ensureStream(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.info(AUDIT_STREAM).catch(() =>
    jsm.streams.add({
      name: AUDIT_STREAM,
      subjects: [AUDIT_RECORDS_SUBJECT],
      // A batch leaves the stream once written: the table is the record, the stream only a queue.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      max_age: nanos(KEEP_UNWRITTEN_MS),
      duplicate_window: nanos(120_000),
    }),
  );
  await jsm.consumers.add(AUDIT_STREAM, {
    durable_name: AUDIT_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: 1000,
  });
}

export interface AuditWriter {
  stop(): Promise<void>;
}

export async function startAuditWriter(nc: NatsConnection, pool: Pool, log: Logger): Promise<AuditWriter> {
  await ensureStream(nc);
  countDeadLettersOf(AUDIT_CONSUMER);
  const consumer = await nc.jetstream().consumers.get(AUDIT_STREAM, AUDIT_CONSUMER);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 100 });
  /** Stored, then terminated; if even storing fails, retried later like any failure. */
  const giveUp = async (msg: JsMsg, reason: string, kind: 'invalid' | 'failing') => {
    try {
      const id = await recordDeadLetter(pool, deadLetterOf(msg, reason), kind);
      log.error({ seq: msg.seq, deadLetter: id, reason }, 'audit batch dead-lettered');
      // No reason argument: nats-server before 2.10 does not parse '+TERM <reason>', ignores
      // the ack, and redelivers the message after ack_wait forever (the issue's poison batch).
      msg.term();
    } catch (err) {
      log.warn({ err, seq: msg.seq, reason }, 'audit batch could not be dead-lettered; will retry');
      msg.nak(RETRY_AFTER_MS);
    }
  };
  const loop = (async () => {
    for await (const msg of messages) {
      let batch: unknown;
      try {
        batch = msg.json();
      } catch {
        batch = undefined;
      }
      if (!checkBatch.Check(batch)) {
        const first = checkBatch.Errors(batch)[0];
        await giveUp(
          msg,
          `does not match the audit batch schema: ${first ? `${first.instancePath || '/'} ${first.message}` : 'not JSON'}`,
          'invalid',
        );
        continue;
      }
      try {
        const inserted = await insertBatch(pool, batch);
        msg.ack();
        log.debug({ records: batch.length, inserted }, 'audit batch written');
      } catch (err) {
        if (exhausted(msg))
          await giveUp(
            msg,
            `not written after ${msg.info.deliveryCount} deliveries: ${(err as Error).message}`,
            'failing',
          );
        else {
          log.warn({ err, records: batch.length }, 'audit batch not written; will retry');
          msg.nak(RETRY_AFTER_MS);
        }
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
