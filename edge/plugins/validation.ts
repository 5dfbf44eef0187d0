// Two Ajv instances: bodies are checked strictly (a string "5" is not a
// quantity), while query strings and params, which only ever arrive as text,
// are coerced to the schema's types. Every error is reported, not just the
// first.
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './problems.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };

export function installValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema));
  refuseNul(app);
}

/** True when any string in a parsed body, query or params holds U+0000. Iterative: bodies may nest deeply. */
function holdsNul(root: unknown): boolean {
  const pending = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string' && value.includes('\u0000')) return true;
    if (value !== null && typeof value === 'object') pending.push(...Object.values(value));
  }
  return false;
}

/**
 * PostgreSQL text cannot hold U+0000, and JSON can carry it (`\u0000`): it is
 * refused here, with every other bad input, rather than as a database error.
 */
export function refuseNul(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    if (holdsNul(request.params) || holdsNul(request.query) || holdsNul(request.body)) {
      return sendProblem(reply, 'VALIDATION_FAILED', 'text must not contain the NUL character (U+0000)');
    }
  });
}
