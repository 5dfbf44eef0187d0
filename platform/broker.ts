// How the edge (and the supervisor's admin endpoint and scheduler) reach an actor: a NATS request on the operation's
// subject (the event's shard for event-scoped operations), with who-asked in
// headers. Transport failures map here and only here: no responders → 503,
// timeout → 504. A request never hangs past the configured timeout.
// No responders means nobody received the request, so it is safe to send
// again: during a rolling restart, a re-plan or a lease hand-over a shard can
// be unserved for a moment, and requests in that gap wait for its next
// thread (for EVENTLY_UNSERVED_WAIT_MS, within the same timeout) instead of failing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyRequest } from 'fastify';
import {
  ErrorCode as NatsErrorCode,
  headers as natsHeaders,
  type MsgHdrs,
  type NatsConnection,
  type NatsError,
} from 'nats';
import type { Static } from 'typebox';
import {
  formatTraceparent,
  Headers,
  parseSubject,
  refuse,
  shardOf,
  subjectFor,
  type CallContext,
  type Operation,
  type Outcome,
} from '../protocol/index.js';
import { signIdentity } from './identity-signature.js';
import { nextTurn } from './next-turn.js';

/** How often a request nobody received is sent again while its timeout lasts. */
const NO_RESPONDERS_RETRY_MS = 50;

export class Broker {
  constructor(
    private readonly nc: NatsConnection,
    private readonly shards: number,
    private readonly timeoutMs: number,
    /** Told each request's operation (its subject without the shard), outcome and seconds. */
    private readonly observe: (operation: string, outcome: string, seconds: number) => void = () => undefined,
    /** Signs the acting user for the actors (identity-signature.ts); without it no user can be named. */
    private readonly identityKey?: string,
    /** How long a request nobody received keeps being sent again (within its timeout) before 503. */
    private readonly unservedWaitMs = 0,
  ) {}

  async call<O extends Operation>(
    operation: O,
    payload: Static<O['request']>,
    ctx: CallContext,
  ): Promise<Outcome<Static<O['reply']>>> {
    const shard =
      operation.scope === 'shard' ? shardOf((payload as { eventId: string }).eventId, this.shards) : undefined;
    return this.callSubject(subjectFor(operation, shard), payload, ctx);
  }

  async callSubject<T>(
    subject: string,
    payload: unknown,
    ctx: CallContext,
    timeoutMs = this.timeoutMs,
  ): Promise<Outcome<T>> {
    const h = natsHeaders();
    h.set(Headers.requestId, ctx.requestId);
    if (ctx.userId || ctx.role) {
      if (!this.identityKey) throw new Error('a broker without the identity key cannot act for a user');
      h.set(Headers.userId, ctx.userId ?? '');
      h.set(Headers.userRole, ctx.role ?? '');
      h.set(
        Headers.identitySignature,
        signIdentity(this.identityKey, { userId: ctx.userId ?? '', role: ctx.role ?? '', requestId: ctx.requestId }),
      );
    }
    if (ctx.idempotencyKey) h.set(Headers.idempotencyKey, ctx.idempotencyKey);
    if (ctx.traceparent) h.set(Headers.traceparent, ctx.traceparent);
    await nextTurn();
    const started = performance.now();
    const outcome = await this.request<T>(subject, JSON.stringify(payload), h, timeoutMs);
    const operation = parseSubject(subject)?.operation;
    this.observe(
      operation ? `${operation.actor}.${operation.name}` : 'unknown',
      outcome.ok ? 'ok' : outcome.code,
      (performance.now() - started) / 1000,
    );
    return outcome;
  }

  private async request<T>(subject: string, payload: string, h: MsgHdrs, timeoutMs: number): Promise<Outcome<T>> {
    const deadline = performance.now() + timeoutMs;
    const unservedUntil = performance.now() + Math.min(this.unservedWaitMs, timeoutMs);
    for (;;) {
      try {
        const left = Math.max(1, Math.round(deadline - performance.now()));
        const msg = await this.nc.request(subject, payload, { timeout: left, headers: h });
        return msg.json<Outcome<T>>();
      } catch (err) {
        const code = (err as NatsError).code;
        if (code === NatsErrorCode.Timeout)
          return refuse(
            'TIMEOUT',
            'the service did not answer in time; retrying with the same Idempotency-Key is safe',
          );
        if (code !== NatsErrorCode.NoResponders)
          return refuse('UNAVAILABLE', `the broker is unavailable (${code ?? (err as Error).message})`);
        if (performance.now() + NO_RESPONDERS_RETRY_MS >= unservedUntil)
          return refuse('UNAVAILABLE', 'no actor is serving this request right now');
        await sleep(NO_RESPONDERS_RETRY_MS);
      }
    }
  }
}

/** Who is asking, as the actors need to know it. */
export function callContext(request: FastifyRequest): CallContext {
  const key = request.headers['idempotency-key'];
  return {
    requestId: request.id,
    userId: request.user?.sub,
    role: request.user?.role,
    idempotencyKey: typeof key === 'string' ? key : undefined,
    // This request's span is the parent of whatever the actor does.
    traceparent: formatTraceparent(request.trace),
  };
}
