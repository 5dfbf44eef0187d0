// A CSV export streamed over NATS with credit-based flow control. The edge
// subscribes to an inbox and asks the analytics actor (analytics.export) to
// stream there; the actor answers with a credit subject and sends numbered
// chunks, never more than `window` ahead of the last chunk the edge has
// credited. The edge credits a chunk once it has handed it to the HTTP
// response without overflowing it, so a slow download slows the database
// cursor instead of filling memory on either side.
import { Type, type Static } from 'typebox';

export const ExportHeaders = {
  /** On every data chunk: 1, 2, 3, … — a gap means a lost chunk and the export fails. */
  seq: 'Evently-Export-Seq',
  /** On the last message (no body): the number of rows sent. */
  end: 'Evently-Export-End',
  /** On a last message instead of `end`: why the export stopped. */
  error: 'Evently-Export-Error',
} as const;

/** Bytes of CSV per chunk (NATS's default max payload is 1 MiB). */
export const EXPORT_CHUNK_BYTES = 64 * 1024;
/** Chunks in flight: the most either side buffers is about window × chunk. */
export const EXPORT_WINDOW = 4;
/** Either side gives up when the other has been silent this long. */
export const EXPORT_IDLE_MS = 30_000;

/** Reader → actor: every chunk up to `acked` is consumed; `cancel` stops the export. */
export const ExportCredit = Type.Object({
  acked: Type.Integer({ minimum: 0 }),
  cancel: Type.Optional(Type.Boolean()),
});
export type ExportCredit = Static<typeof ExportCredit>;
