// Every state-changing request leaves an audit record: who, what, when, the
// outcome, the request and trace ids. Nothing of it is on the request path:
// the record is built in onResponse (after the reply went out) and buffered;
// the buffer goes to JetStream as one message per batch (at most every
// FLUSH_MS or FLUSH_RECORDS), where the audit actor picks it up and inserts
// it in one statement. JetStream holds batches while the audit actor is down;
// what an edge has buffered but not yet published (≤ FLUSH_MS of records) is
// lost if that edge process dies, and a batch JetStream refuses is logged
// whole at error level, so it still reaches the log store.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { JetStreamClient, NatsConnection } from 'nats';
import { v7 as uuidv7 } from 'uuid';
import { AUDIT_RECORDS_SUBJECT, type AuditRecord } from '../../protocol/index.js';

const FLUSH_MS = 50;
const FLUSH_RECORDS = 500;
const AUDITED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Dotted action name in the audit log (default: method and route). */
    audit?: string;
  }
  interface FastifyRequest {
    /** Who an anonymous request is about (the account a login tried), for the audit log. */
    auditSubject: string | null;
  }
}

export default fp<{ nc: NatsConnection }>(
  async (app, { nc }) => {
    const js: JetStreamClient = nc.jetstream();
    let buffer: AuditRecord[] = [];
    let timer: NodeJS.Timeout | undefined;
    const publishing = new Set<Promise<void>>();

    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      const batchId = uuidv7();
      // The batch id is JetStream's Nats-Msg-Id: a retried publish is stored once.
      const done = js
        .publish(AUDIT_RECORDS_SUBJECT, JSON.stringify(batch), { msgID: batchId })
        .then(
          () => undefined,
          (err: unknown) => app.log.error({ err, records: batch }, 'audit batch not published'),
        )
        .finally(() => publishing.delete(done));
      publishing.add(done);
    };

    app.decorateRequest('auditSubject', null);

    app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
      const route = request.routeOptions.url;
      if (!AUDITED_METHODS.has(request.method) || route === undefined) return;
      const params = request.params as { id?: unknown } | undefined;
      buffer.push({
        id: uuidv7(),
        at: new Date().toISOString(),
        userId: request.user?.sub ?? null,
        role: request.user?.role ?? null,
        subject: request.auditSubject,
        // A client that hung up before the reply has no peer address left to read.
        ip: request.ip ?? '(disconnected)',
        method: request.method,
        route,
        action: request.routeOptions.config.audit ?? `${request.method} ${route}`,
        targetId: typeof params?.id === 'string' ? params.id : null,
        status: reply.statusCode,
        code: reply.problemCode,
        requestId: request.id,
        traceId: request.trace.traceId,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      });
      if (buffer.length >= FLUSH_RECORDS) flush();
      else timer ??= setTimeout(flush, FLUSH_MS);
    });

    app.addHook('onClose', async () => {
      flush();
      await Promise.all(publishing);
    });
  },
  { name: 'evently-audit', dependencies: ['evently-auth'] },
);
