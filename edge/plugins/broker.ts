// The edge's one way to reach an actor: a NATS request on the operation's
// subject (the event's shard for event-scoped operations), with who-asked in
// headers. Transport failures map here and only here: no responders → 503,
// timeout → 504. A request never hangs past the configured timeout.
import type { FastifyRequest } from 'fastify';
import { ErrorCode as NatsErrorCode, headers as natsHeaders, type MsgHdrs, type NatsConnection, type NatsError } from 'nats';
import type { Static } from 'typebox';
import {
  formatTraceparent, Headers, parseSubject, refuse, shardOf, subjectFor, type CallContext, type Operation, type Outcome,
} from '../../actors/protocol/index.js';
import { signIdentity } from '../../actors/runtime/identity-signature.js';
import { nextTurn } from '../../actors/runtime/next-turn.js';

export class Broker {
  constructor(
    private readonly nc: NatsConnection,
    private readonly shards: number,
    private readonly timeoutMs: number,
    /** Told each request's operation (its subject without the shard), outcome and seconds. */
    private readonly observe: (operation: string, outcome: string, seconds: number) => void = () => undefined,
    /** Signs the acting user for the actors (identity-signature.ts); without it no user can be named. */
    private readonly identityKey?: string,
  ) {}

  async call<O extends Operation>(operation: O, payload: Static<O['request']>, ctx: CallContext): Promise<Outcome<Static<O['reply']>>> {
    const shard = operation.scope === 'shard' ? shardOf((payload as { eventId: string }).eventId, this.shards) : undefined;
    return this.callSubject(subjectFor(operation, shard), payload, ctx);
  }

  async callSubject<T>(subject: string, payload: unknown, ctx: CallContext, timeoutMs = this.timeoutMs): Promise<Outcome<T>> {
    const h = natsHeaders();
    h.set(Headers.requestId, ctx.requestId);
    if (ctx.userId || ctx.role) {
      if (!this.identityKey) throw new Error('a broker without the identity key cannot act for a user');
      h.set(Headers.userId, ctx.userId ?? '');
      h.set(Headers.userRole, ctx.role ?? '');
      h.set(Headers.identitySignature, signIdentity(this.identityKey, { userId: ctx.userId ?? '', role: ctx.role ?? '', requestId: ctx.requestId }));
    }
    if (ctx.idempotencyKey) h.set(Headers.idempotencyKey, ctx.idempotencyKey);
    if (ctx.traceparent) h.set(Headers.traceparent, ctx.traceparent);
    await nextTurn();
    const started = performance.now();
    const outcome = await this.request<T>(subject, JSON.stringify(payload), h, timeoutMs);
    const operation = parseSubject(subject)?.operation;
    this.observe(operation ? `${operation.actor}.${operation.name}` : 'unknown', outcome.ok ? 'ok' : outcome.code, (performance.now() - started) / 1000);
    return outcome;
  }

  private async request<T>(subject: string, payload: string, h: MsgHdrs, timeoutMs: number): Promise<Outcome<T>> {
    try {
      const msg = await this.nc.request(subject, payload, { timeout: timeoutMs, headers: h });
      return msg.json<Outcome<T>>();
    } catch (err) {
      const code = (err as NatsError).code;
      if (code === NatsErrorCode.Timeout) return refuse('TIMEOUT', 'the service did not answer in time; retrying with the same Idempotency-Key is safe');
      return refuse('UNAVAILABLE', code === NatsErrorCode.NoResponders ? 'no actor is serving this request right now' : 'the broker is unavailable');
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
