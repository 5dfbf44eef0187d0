// The contract between the actor runtime and one actor kind. An actor module
// exports `start`, which opens what it needs and returns one handler for each
// operation the protocol's catalogue gives its kind, keyed as the catalogue
// keys them and typed by their schemas; the runtime owns subscriptions,
// validation and replies.
import type { NatsConnection } from 'nats';
import type {
  ActorKind,
  CallContext,
  Operation,
  OperationsOf,
  Outcome,
  ReplyOf,
  RequestOf,
} from '../protocol/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Pressure } from './pressure.js';

/**
 * Kinds that only react to the domain stream or serve operators: no client
 * waits on their work. Their threads run at a lower OS priority and yield to
 * the booking path (see pressure.ts).
 */
export const BACKGROUND_KINDS: ReadonlySet<ActorKind> = new Set<ActorKind>([
  'mailer',
  'analytics',
  'pricing',
  'audit',
  'webhooks',
]);

/**
 * The OS nice value of a kind's threads. Background kinds yield most. The waiting room serves people
 * who wait anyway (a poll told to come back in seconds, a frame due within one): in a sale its ticks,
 * joins and polls took the cores the bookings of the people it had just admitted needed.
 */
export function niceOf(kind: ActorKind, config: Pick<Config, 'backgroundNice' | 'waitroomNice'>): number {
  if (BACKGROUND_KINDS.has(kind)) return config.backgroundNice;
  return kind === 'waitroom' ? config.waitroomNice : 0;
}

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

/** Answers one operation; its request arrives already checked against the operation's schema. */
export type Handler<O extends Operation = Operation> = (
  request: RequestOf<O>,
  ctx: CallContext,
  meta: HandlerMeta,
) => Promise<Outcome<ReplyOf<O>>>;

/** A handler for every operation of the kind, and none other. */
export type Handlers<K extends ActorKind> = {
  readonly [N in keyof OperationsOf<K>]: Handler<OperationsOf<K>[N] extends Operation ? OperationsOf<K>[N] : never>;
};

export interface ActorInstance<K extends ActorKind = ActorKind> {
  readonly handlers: Handlers<K>;
  stop(): Promise<void>;
}

export type StartActor<K extends ActorKind = ActorKind> = (ctx: ActorContext) => Promise<ActorInstance<K>>;
