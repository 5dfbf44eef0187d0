// Ajv's errors, said the way a client can act on them: each names the field
// (a query parameter, a body property, a path parameter) and what it may be.
// "must be equal to constant" three times becomes "status must be one of
// scheduled, cancelled, completed"; an unknown field is named with the ones
// allowed. Needs Ajv's `verbose` option (the failing schema on each error).
import type { ErrorObject } from 'ajv';

export interface FieldError {
  path: string;
  message: string;
}

interface Schema {
  const?: unknown;
  anyOf?: Schema[];
  format?: string;
  properties?: Record<string, unknown>;
  type?: unknown;
}

const PART: Record<string, string> = {
  querystring: 'query parameter',
  body: 'body field',
  params: 'path parameter',
  headers: 'header',
};

const DATES: Record<string, string> = {
  'date-time': 'an ISO-8601 date-time from year 1900 to 9999, e.g. 2027-01-01T20:00:00Z',
  date: 'a day YYYY-MM-DD from year 1900 to 9999, e.g. 2027-01-01',
};

const fieldOf = (e: ErrorObject, context: string): string => {
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return path || (context === 'querystring' ? 'query' : context || 'request');
};

const literals = (branches: Schema[]): unknown[] | undefined =>
  branches.every((b) => b && 'const' in b) ? branches.map((b) => b.const) : undefined;

/** The message of one error, without the field name. */
function say(e: ErrorObject): string {
  const parent = (e.parentSchema ?? {}) as Schema;
  const dates = parent.format ? DATES[parent.format] : undefined;
  if (dates && (e.keyword === 'format' || e.keyword === 'pattern')) return `must be ${dates}`;
  switch (e.keyword) {
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'format':
      return e.params.format === 'uuid' ? 'must be a UUID' : `must be a valid ${String(e.params.format)}`;
    default:
      return e.message ?? 'is not valid';
  }
}

export function fieldErrors(errors: ErrorObject[], context = ''): FieldError[] {
  const out: FieldError[] = [];
  // Errors inside an anyOf's branches are reported once, by the anyOf (they come before it).
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const inBranch = (e: ErrorObject) => anyOfs.some((p) => e.schemaPath.startsWith(p));
  for (const e of errors) {
    const field = fieldOf(e, context);
    if (e.keyword === 'anyOf') {
      const allowed = literals(e.schema as Schema[]);
      const branches = errors.filter(
        (b) => b !== e && b.schemaPath.startsWith(`${e.schemaPath}/`) && b.instancePath === e.instancePath,
      );
      const message = allowed
        ? `must be one of ${allowed.join(', ')}`
        : [...new Set(branches.map(say))].join(' or ') || 'does not match any allowed form';
      out.push({ path: field, message });
    } else if (inBranch(e)) {
      continue;
    } else if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      const allowed = Object.keys(((e.parentSchema ?? {}) as Schema).properties ?? {});
      const where = PART[context] ?? 'field';
      out.push({
        path: e.instancePath ? `${field}.${name}` : name,
        message: `is not a known ${where}; allowed: ${allowed.join(', ') || 'none'}`,
      });
    } else if (e.keyword === 'required') {
      const name = String(e.params.missingProperty);
      out.push({ path: e.instancePath ? `${field}.${name}` : name, message: 'is required' });
    } else {
      out.push({ path: field, message: say(e) });
    }
  }
  return out;
}

export const describe = (errors: FieldError[]): string => errors.map((e) => `${e.path} ${e.message}`).join('; ');
