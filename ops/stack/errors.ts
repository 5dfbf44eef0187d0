import { readFileSync } from 'node:fs';

/**
 * Every failure the stack can anticipate is a StackError, so callers (the CLI, test set-up) can
 * print `message` alone: it is written to say what went wrong and what to run to fix it.
 */
export class StackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackError';
  }
}

/**
 * The last lines of a server's log file. A server that fails to start almost always says why on
 * its last few lines, so quoting them saves the reader a trip to the file.
 */
export function logTail(logFile: string, lines = 15): string {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return `(no log at ${logFile})`;
  }
  const tail = text.trimEnd().split('\n').slice(-lines);
  if (tail.length === 1 && tail[0] === '') return `(${logFile} is empty)`;
  return tail.map((line) => `    ${line}`).join('\n');
}

/** A StackError for a server that did not come up, quoting its log. */
export function serverFailed(name: string, reason: string, logFile: string): StackError {
  return new StackError(`${name} did not start: ${reason}.\n  Last lines of ${logFile}:\n${logTail(logFile)}`);
}
