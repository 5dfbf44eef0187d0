// What a domain consumer does with a message it cannot apply. A payload that
// is not a domain message can never be applied: it is ended at once. One
// whose handler keeps failing is retried with a doubling backoff, long enough
// to ride out a database or broker restart, and ended after a bounded number of deliveries.
// An ended message goes to the dead-letter sink (an operator can read and
// replay it) and nothing else waits behind it.
import type { JsMsg } from 'nats';
import { readDomainMessage, type DomainMessage } from '../protocol/index.js';
import type { Logger } from './logger.js';

export interface RetryPolicy {
  minMs: number;
  maxMs: number;
  /** Deliveries after which a failing message is given up on. */
  maxDeliveries: number;
}

/** Deliveries after which a message that keeps failing is dead-lettered instead of retried again. */
export const MAX_DELIVERIES = 20;

/** About seven minutes of retries: a database or broker restart is ridden out, a bug is not retried forever. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ minMs: 200, maxMs: 30_000, maxDeliveries: MAX_DELIVERIES });

/** What a dead letter keeps of a message (stored by dead-letters.ts). */
export interface DeadLetter {
  /** The durable consumer that gave up on it. */
  consumer: string;
  stream: string;
  subject: string;
  streamSeq: number;
  reason: string;
  payload: Uint8Array;
  headers: Record<string, string[]>;
  deliveries: number;
}

/** Keeps a message that was given up on (e.g. recordDeadLetter); a failure to keep it is logged, never thrown. */
export type DeadLetterSink = (letter: DeadLetter, kind: 'invalid' | 'failing') => Promise<unknown>;

/** How long a failed message waits before it is delivered again: doubling, capped. */
export const retryDelayMs = (m: JsMsg, policy: RetryPolicy = DEFAULT_RETRY): number =>
  Math.min(policy.minMs * 2 ** Math.max(0, m.info.redeliveryCount - 1), policy.maxMs);

/** The fields of a JetStream message a dead letter keeps. */
export function deadLetterOf(msg: JsMsg, reason: string): DeadLetter {
  const headers: Record<string, string[]> = {};
  if (msg.headers) for (const [name, values] of msg.headers) headers[name] = values;
  return {
    consumer: msg.info.consumer,
    stream: msg.info.stream,
    subject: msg.subject,
    streamSeq: msg.info.streamSequence,
    reason,
    payload: msg.data,
    headers,
    deliveries: msg.info.deliveryCount,
  };
}

async function giveUp(
  m: JsMsg,
  consumer: string,
  reason: string,
  kind: 'invalid' | 'failing',
  log: Logger,
  sink: DeadLetterSink | undefined,
): Promise<void> {
  const letter = deadLetterOf(m, reason);
  log.error({ consumer, subject: m.subject, seq: m.seq, reason }, 'domain message given up on; kept as a dead letter');
  try {
    await sink?.(letter, kind);
  } catch (err) {
    // Not kept: redelivered later rather than lost.
    log.error({ err, consumer, seq: m.seq }, 'dead letter could not be stored; the message will come again');
    m.nak(DEFAULT_RETRY.maxMs);
    return;
  }
  // No reason: nats-server 2.9 ignores a term that carries one.
  m.term();
}

/** The message `m` carries, or undefined (and `m` ended) when it is not a domain message. */
export async function readMessage(
  m: JsMsg,
  consumer: string,
  log: Logger,
  sink?: DeadLetterSink,
): Promise<DomainMessage | undefined> {
  let payload: unknown;
  try {
    payload = m.json();
  } catch {
    payload = undefined;
  }
  const message = readDomainMessage(payload);
  if (!message) await giveUp(m, consumer, 'not a valid domain message', 'invalid', log, sink);
  return message;
}

/** After a failure: redeliver later, or give up when it has failed too often. */
export async function retryOrGiveUp(
  m: JsMsg,
  consumer: string,
  err: unknown,
  log: Logger,
  sink?: DeadLetterSink,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<void> {
  if (m.info.redeliveryCount >= policy.maxDeliveries) {
    await giveUp(
      m,
      consumer,
      `failed ${m.info.redeliveryCount} times: ${(err as Error)?.message ?? String(err)}`,
      'failing',
      log,
      sink,
    );
    return;
  }
  const retryInMs = retryDelayMs(m, policy);
  log.warn({ err, consumer, subject: m.subject, seq: m.seq, retryInMs }, 'domain message failed; will be redelivered');
  m.nak(retryInMs);
}
