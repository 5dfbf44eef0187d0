// The contract between the actor runtime and one actor kind. An actor module
// exports `start`, which opens what it needs and returns handlers by
// operation name; the runtime owns subscriptions, validation and replies.
import type { NatsConnection } from 'nats';
import type { ActorKind, CallContext, Outcome } from '../protocol/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Pressure } from './pressure.js';

/**
 * Kinds that only react to the domain stream or serve operators: no client
 * waits on their work. Their threads run at a lower OS priority and yield to
 * the booking path (see pressure.ts).
 */
export const BACKGROUND_KINDS: ReadonlySet<ActorKind> = new Set<ActorKind>(['mailer', 'analytics', 'pricing', 'audit', 'webhooks']);

export interface ActorContext {
  readonly config: Config;
  readonly log: Logger;
  readonly shards: readonly number[];
  readonly threadId: number;
  /** The thread's NATS connection (JetStream publishing and consuming). */
  readonly nc: NatsConnection;
  /** How busy this process's booking path is: foreground actors mark it, background ones yield to it. */
  readonly pressure: Pressure;
  /** Background actors: waits before a run of work while the booking path is busy (bounded). */
  readonly yieldToForeground: () => Promise<void>;
}

export interface HandlerMeta {
  readonly shard: number | null;
  readonly log: Logger;
}

// Requests arrive already checked against the operation's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (request: any, ctx: CallContext, meta: HandlerMeta) => Promise<Outcome<unknown>>;

export interface ActorInstance {
  readonly handlers: Readonly<Record<string, Handler>>;
  stop(): Promise<void>;
}

export type StartActor = (ctx: ActorContext) => Promise<ActorInstance>;
