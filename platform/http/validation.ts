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

// verbose: each error carries its schema, so messages can name the allowed values (validation-messages.ts).
const common: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false, verbose: true };

export function installValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  refuseNul(app);
}

/** The first field (a top-level name) of a parsed body, query or params whose text holds U+0000. Iterative: bodies may nest deeply. */
function fieldWithNul(root: unknown): string | undefined {
  if (typeof root === 'string') return root.includes('\u0000') ? 'body' : undefined;
  if (root === null || typeof root !== 'object') return undefined;
  for (const [field, top] of Object.entries(root)) {
    const pending = [top];
    while (pending.length > 0) {
      const value = pending.pop();
      if (typeof value === 'string' && value.includes('\u0000')) return field;
      if (value !== null && typeof value === 'object') pending.push(...Object.values(value));
    }
  }
  return undefined;
}

/**
 * PostgreSQL text cannot hold U+0000, and JSON can carry it (`\u0000`): it is
 * refused here, with every other bad input, rather than as a database error.
 */
export function refuseNul(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const field = fieldWithNul(request.params) ?? fieldWithNul(request.query) ?? fieldWithNul(request.body);
    if (field !== undefined) {
      return sendProblem(reply, 'VALIDATION_FAILED', `${field} must not contain the NUL character (U+0000)`);
    }
  });
}
