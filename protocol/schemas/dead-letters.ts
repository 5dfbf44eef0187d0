// The supervisor's dead-letter routes (GET /dead-letters, POST
// /dead-letters/:id/replay): what an operator sees of a message a consumer
// gave up on, and the few ways to ask for them.
import { Type, type Static } from 'typebox';

export const DeadLetterIdParam = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Dead letter id' }) });

export const DeadLettersQuery = Type.Object(
  {
    consumer: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this durable consumer' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'Newest first, at most this many' }),
    ),
  },
  { additionalProperties: false },
);
export type DeadLettersQuery = Static<typeof DeadLettersQuery>;

export const DeadLetterView = Type.Object({
  id: Type.Integer(),
  consumer: Type.String(),
  stream: Type.String(),
  subject: Type.String(),
  streamSeq: Type.Integer(),
  reason: Type.String(),
  /** The payload as text when it is UTF-8, else base64 (a poison message need not be either JSON or text). */
  payload: Type.String(),
  payloadEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
  headers: Type.Record(Type.String(), Type.Array(Type.String())),
  deliveries: Type.Integer(),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  replayedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type DeadLetterView = Static<typeof DeadLetterView>;

export const DeadLettersReply = Type.Object({ deadLetters: Type.Array(DeadLetterView) });
export type DeadLettersReply = Static<typeof DeadLettersReply>;
