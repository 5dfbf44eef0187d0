// The edge's half of a CSV export (see protocol/analytics-export.ts): it
// subscribes to an inbox, asks an analytics actor to stream there, and
// writes each numbered chunk into the HTTP response, crediting the actor
// only once the response has taken the chunk without overflowing. A client
// that reads slowly slows the database cursor; one that leaves cancels it.
import { createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';
import { PassThrough, type Readable } from 'node:stream';
import {
  analytics,
  EXPORT_IDLE_MS,
  EXPORT_WINDOW,
  ExportHeaders,
  ok,
  type CallContext,
  type ExportCredit,
  type Outcome,
} from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';

/** Resolves when the stream can take more, or has closed. */
const writable = (out: PassThrough) =>
  new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });

async function relay(nc: NatsConnection, sub: Subscription, creditSubject: string, out: PassThrough): Promise<void> {
  let expected = 1;
  let finished = false;
  const credit = (c: ExportCredit) => nc.publish(creditSubject, JSON.stringify(c));
  const fail = (reason: string) => {
    credit({ acked: expected - 1, cancel: true });
    out.destroy(new Error(reason));
  };
  let idle = setTimeout(() => {
    fail('the export stalled');
    sub.unsubscribe();
  }, EXPORT_IDLE_MS);
  out.once('close', () => {
    if (!finished) credit({ acked: expected - 1, cancel: true });
    sub.unsubscribe();
  });
  const take = async (m: Msg): Promise<boolean> => {
    if (m.headers?.has(ExportHeaders.end)) {
      finished = true;
      out.end();
      return false;
    }
    if (m.headers?.has(ExportHeaders.error)) {
      finished = true;
      out.destroy(new Error(m.headers.get(ExportHeaders.error)));
      return false;
    }
    // Core NATS keeps one publisher's order; a gap means a chunk was lost (a reconnect, say).
    if (Number(m.headers?.get(ExportHeaders.seq)) !== expected) {
      fail(`export chunk ${expected} was lost`);
      return false;
    }
    if (!out.write(m.data)) await writable(out);
    if (out.destroyed) return false;
    credit({ acked: expected });
    expected += 1;
    return true;
  };
  try {
    for await (const m of sub) {
      clearTimeout(idle);
      if (!(await take(m))) break;
      idle = setTimeout(() => {
        fail('the export stalled');
        sub.unsubscribe();
      }, EXPORT_IDLE_MS);
    }
  } finally {
    clearTimeout(idle);
    sub.unsubscribe();
  }
}

/** The CSV as a stream for the reply, or the actor's refusal (not found, forbidden, busy). */
export async function openBookingsExport(
  nc: NatsConnection,
  broker: Broker,
  eventId: string,
  ctx: CallContext,
): Promise<Outcome<Readable>> {
  const inbox = createInbox();
  // Subscribed before asking: the first chunks may arrive before the answer does.
  const sub = nc.subscribe(inbox);
  const started = await broker.call(analytics.exportBookings, { eventId, inbox, window: EXPORT_WINDOW }, ctx);
  if (!started.ok) {
    sub.unsubscribe();
    return started;
  }
  const out = new PassThrough();
  void relay(nc, sub, started.value.creditSubject, out);
  return ok(out);
}
