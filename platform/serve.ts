// Turns an actor's handlers into NATS subscriptions on its shard subjects,
// in the kind's queue group. Every request is validated against the
// protocol schema before a handler sees it; every reply is an Outcome; no
// handler error escapes as anything but INTERNAL.
import type { Msg, MsgHdrs, NatsConnection } from 'nats';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  Headers,
  isRole,
  operations,
  parseSubject,
  parseTraceparent,
  queueGroup,
  refuse,
  subscriptionsFor,
  type ActorKind,
  type CallContext,
  type Operation,
  type Outcome,
} from '../protocol/index.js';
import type { ActorInstance, HandlerMeta } from './actor.js';
import { identityRefusal } from './identity-signature.js';
import { FencedError } from './lease-deadlines.js';
import type { Logger } from './logger.js';
import { handlerSeconds, trackQueueDepth } from './metrics.js';
import { nextTurn } from './next-turn.js';

type Validator = ReturnType<typeof Compile<TSchema>>;
/** A handler as dispatch calls it: with a request already checked against its operation's schema. */
type CheckedHandler = (request: unknown, ctx: CallContext, meta: HandlerMeta) => Promise<Outcome<unknown>>;

export interface Served {
  /** Stops taking new requests and waits for those in flight. */
  drain(): Promise<void>;
  /** Requests taken and not yet answered, for the supervisor's pool report. */
  inFlight(): number;
}

/**
 * Who asks, from the message headers. A named user or role must come with
 * the edge's signature over them (identity-signature.ts): a request that
 * claims an identity without one is refused, whoever published it.
 */
export function contextFrom(h: MsgHdrs | undefined, keys: readonly string[]): CallContext | { refusal: string } {
  const requestId = h?.get(Headers.requestId) || 'none';
  const base = {
    requestId,
    idempotencyKey: h?.get(Headers.idempotencyKey) || undefined,
    traceparent: h?.get(Headers.traceparent) || undefined,
  };
  const userId = h?.get(Headers.userId) ?? '';
  const role = h?.get(Headers.userRole) ?? '';
  if (!userId && !role) return base;
  const refusal = identityRefusal(keys, { userId, role, requestId }, h?.get(Headers.identitySignature) || undefined);
  if (refusal) return { refusal };
  return { ...base, userId: userId || undefined, role: isRole(role) ? role : undefined };
}

export function serve<K extends ActorKind>(
  nc: NatsConnection,
  kind: K,
  shards: readonly number[],
  actor: ActorInstance<K>,
  log: Logger,
  identityKeys: readonly string[],
): Served {
  const validators = new Map<string, Validator>();
  // Handlers are keyed and typed as the catalogue keys the kind's operations; subjects carry the operation's name.
  const handlers = actor.handlers as Readonly<Record<string, CheckedHandler>>;
  const byName = new Map(
    Object.entries<Operation>(operations[kind]).flatMap(([key, operation]) => {
      const handler = handlers[key];
      return handler ? [[operation.name, handler] as const] : [];
    }),
  );
  const inflight = new Set<Promise<void>>();

  const handle = async (msg: Msg): Promise<void> => {
    const route = parseSubject(msg.subject);
    const ctx = contextFrom(msg.headers, identityKeys);
    const took = handlerSeconds.startTimer({ pool: kind, operation: route?.operation.name ?? 'unknown' });
    let outcome: Outcome<unknown>;
    try {
      if ('refusal' in ctx) {
        log.warn({ subject: msg.subject, reason: ctx.refusal }, 'request with an unverified identity refused');
        outcome = refuse('UNAUTHENTICATED', ctx.refusal);
      } else {
        outcome = route
          ? await dispatch(route.operation.name, route.operation.request, route.shard, msg, ctx)
          : refuse('NOT_FOUND', `no operation on ${msg.subject}`);
      }
    } catch (err) {
      if (err instanceof FencedError) {
        log.warn({ shard: err.shard, subject: msg.subject }, 'commit refused: the lease ran out');
        outcome = refuse('UNAVAILABLE', 'the shard is moving to another supervisor; retry');
      } else {
        log.error({ err, requestId: msg.headers?.get(Headers.requestId), subject: msg.subject }, 'handler failed');
        outcome = refuse('INTERNAL', 'internal error');
      }
    }
    took({ outcome: outcome.ok ? 'ok' : outcome.code });
    if (!msg.reply) return;
    const reply = JSON.stringify(outcome);
    await nextTurn();
    msg.respond(reply);
  };

  const dispatch = async (name: string, schema: TSchema, shard: number | null, msg: Msg, ctx: CallContext) => {
    const handler = byName.get(name);
    if (!handler) return refuse('NOT_FOUND', `${kind} does not answer ${name}`);
    let body: unknown;
    try {
      body = msg.data.length > 0 ? msg.json() : {};
    } catch {
      return refuse('VALIDATION_FAILED', 'request is not JSON');
    }
    let validator = validators.get(name);
    if (!validator) validators.set(name, (validator = Compile(schema)));
    if (!validator.Check(body)) {
      const first = validator.Errors(body)[0];
      return refuse('VALIDATION_FAILED', first ? `${first.instancePath || '/'} ${first.message}` : 'invalid request');
    }
    const traceId = parseTraceparent(ctx.traceparent)?.traceId;
    const requestLog = log.child({ requestId: ctx.requestId, traceId, shard });
    const outcome = await handler(body, ctx, { shard, log: requestLog });
    // One line per request at debug: with the edge's lines, one request id finds the whole path.
    requestLog.debug({ op: name, outcome: outcome.ok ? outcome.status : outcome.code }, 'handled');
    return outcome;
  };

  const subscriptions = subscriptionsFor(kind, shards).map((subject) =>
    nc.subscribe(subject, {
      queue: queueGroup(kind),
      callback: (err, msg) => {
        if (err) {
          log.error({ err, subject }, 'subscription error');
          return;
        }
        const done = handle(msg).finally(() => inflight.delete(done));
        inflight.add(done);
      },
    }),
  );

  trackQueueDepth(kind, () => inflight.size);
  return {
    async drain() {
      await Promise.all(subscriptions.map((s) => s.drain()));
      await Promise.all(inflight);
    },
    inFlight: () => inflight.size,
  };
}
