import { pino, type Logger } from 'pino';

export type { Logger };

/** One pino logger per process (or per actor thread); callers bind context with child(). */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}
