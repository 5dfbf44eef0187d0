// The JSON body parser. Fastify's own refuses a body holding `__proto__` (or
// `constructor.prototype`) with the same error as broken JSON, which tells the
// client the wrong thing: the JSON is fine, the key is not allowed. This one
// names the key. Bodies without either word (every booking) take the plain
// JSON.parse path, so the check costs nothing on the hot path.
import type { FastifyInstance } from 'fastify';

/** A parse refusal with the code the problems plugin maps (Fastify's own codes where they exist). */
class BodyError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A body key that could reach an object's prototype: refused as a validation error naming it. */
export const FORBIDDEN_BODY_KEY = 'EVENTLY_FORBIDDEN_BODY_KEY';
const forbidden = (key: string) =>
  new BodyError(FORBIDDEN_BODY_KEY, `body must not contain the key "${key}" (it could change object prototypes)`);

function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw forbidden('__proto__');
  if (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype')) {
    throw forbidden('constructor.prototype');
  }
  return value;
}

export function parseJsonBody(text: string): unknown {
  if (text === '')
    throw new BodyError('FST_ERR_CTP_EMPTY_JSON_BODY', 'the body is empty but content-type is application/json');
  const suspicious = text.includes('__proto__') || text.includes('constructor');
  try {
    return suspicious ? JSON.parse(text, refuseProtoKeys) : JSON.parse(text);
  } catch (err) {
    if (err instanceof BodyError) throw err;
    throw new BodyError('FST_ERR_CTP_INVALID_JSON_BODY', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

export function installJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
