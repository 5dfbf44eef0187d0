// Generates bad requests for every operation of an OpenAPI document: each
// body property, query parameter, path parameter and header given wrong
// types, boundary numbers, very long strings, odd unicode and injection
// strings; required fields left out; fields and parameters that do not
// exist; bodies that are not objects. Valid values come from the document's
// examples, so routes added later are swept without a line changed here.
import { randomUUID } from 'node:crypto';

export interface JsonSchema {
  type?: string | string[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  examples?: unknown[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}
export interface OpenApiOperation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema; example?: unknown }> };
}

export interface SweepRequest {
  name: string;
  method: string;
  path: string;
  body?: string;
  headers: Record<string, string>;
  /** The query parameter this request gets wrong: a 400 about it must name it. */
  field?: string;
}

const INJECTIONS = [
  "'; DROP TABLE events; --",
  '" OR 1=1 --',
  '{"$gt":""}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '${jndi:ldap://x/a}',
  '%00%0d%0aSet-Cookie: x=1',
] as const;
const UNICODE = [
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 🎟️',
  '\u202Eevil\u202C',
  'null\u0000byte',
  'ｆｕｌｌｗｉｄｔｈ',
  '\uD800 lone surrogate',
  'é'.repeat(300),
] as const;

// Dates PostgreSQL cannot hold or a format check alone lets through.
const BOUNDARY_TIMES = [
  '0000-01-01T00:00:00Z',
  '99999-01-01T00:00:00Z',
  '1899-12-31T23:59:59Z',
  '2027-02-30T00:00:00Z',
  '2027-01-01T24:00:01Z',
];
const BOUNDARY_DAYS = ['0000-01-01', '99999-01-01', '2027-02-30', '2027-13-01'];
const UUID_SAMPLE = '01937a4c-1f00-7000-8000-0000000000ee';
/** Cursors that decode to the wrong shape: ids that are not UUIDs, times out of range, wrong types and lengths. */
const CRAFTED_CURSORS = [
  ['2027-01-01T00:00:00Z', 'x'],
  ['0000-01-01T00:00:00Z', UUID_SAMPLE],
  ['99999-01-01T00:00:00Z', UUID_SAMPLE],
  ['x'],
  [UUID_SAMPLE, 'x'],
  [1, 2],
  [null],
  [],
  ['x', 'y', 'z'],
  { id: UUID_SAMPLE },
  'x',
  [UUID_SAMPLE.toUpperCase().replace('0', 'G')],
].map((key) => Buffer.from(JSON.stringify(key)).toString('base64url'));

/** The literals an enum-like schema allows (an anyOf of consts, or enum), if it is one. */
const literalsOf = (s: JsonSchema): unknown[] | undefined =>
  s.enum ?? (s.anyOf?.every((b) => 'const' in b) ? s.anyOf.map((b) => (b as { const: unknown }).const) : undefined);

function typeOf(s: JsonSchema): string {
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  return t ?? (s.anyOf?.[0] ? typeOf(s.anyOf[0]) : 'string');
}

/** Values that are wrong, or right only at the edge, for a schema. */
export function badValues(s: JsonSchema, name = ''): unknown[] {
  const type = typeOf(s);
  const dates = s.format === 'date-time' ? BOUNDARY_TIMES : s.format === 'date' ? BOUNDARY_DAYS : [];
  const literals = literalsOf(s);
  // Every enum: another word, another case, and the allowed ones run together.
  const enumish = literals
    ? ['bogus', String(literals[0]).toUpperCase(), literals.join(','), `${String(literals[0])} `]
    : [];
  const cursors = name === 'cursor' ? CRAFTED_CURSORS : [];
  const special = [...dates, ...enumish, ...cursors];
  const strings = ['', 'x'.repeat((s.maxLength ?? 1000) + 1), 'x'.repeat(20_000), ...INJECTIONS, ...UNICODE];
  if (type === 'integer' || type === 'number') {
    const edges = [s.minimum, s.maximum].filter((n): n is number => n !== undefined).flatMap((n) => [n - 1, n, n + 1]);
    return [
      ...edges,
      -1,
      0,
      1.5,
      -0,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      '1',
      'NaN',
      true,
      null,
      [],
      {},
      ...INJECTIONS.slice(0, 2),
    ];
  }
  if (type === 'boolean') return ['true', 1, null, {}];
  if (type === 'array') return [{}, 'x', [null], Array.from({ length: 1000 }, () => 'x')];
  if (type === 'object') return ['x', 1, [], null, ...special];
  return [
    ...special,
    ...strings,
    1,
    true,
    null,
    [],
    {},
    s.format === 'uuid' ? randomUUID().toUpperCase() : `${randomUUID()}x`,
  ];
}

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
/** A URL component, or undefined for a value no client can put in a URL (a lone surrogate). */
function component(v: string): string | undefined {
  try {
    return encodeURIComponent(v);
  } catch {
    return undefined;
  }
}

/**
 * The bad requests for one operation. `pathValue` gives a real value for a
 * path parameter (an existing id), so body and query checks get past it.
 */
export function sweep(
  method: string,
  template: string,
  op: OpenApiOperation,
  pathValue: (name: string) => string,
): SweepRequest[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const pathWith = (over: Record<string, string> = {}) =>
    template.replace(/\{(\w+)\}/g, (_, name: string) => component(over[name] ?? pathValue(name)) ?? 'unencodable');
  const media = op.requestBody?.content['application/json'];
  const bodySchema = media?.schema;
  // @fastify/swagger puts a schema's example on the media type.
  const valid = (media?.example ?? bodySchema?.examples?.[0] ?? {}) as Record<string, unknown>;
  const json = { 'content-type': 'application/json' };
  const out: SweepRequest[] = [];
  const add = (name: string, path: string, body?: unknown, headers: Record<string, string> = {}, raw?: string) => {
    const request: SweepRequest = {
      name: `${method} ${template} ${name}`,
      method,
      path,
      headers: body !== undefined || raw !== undefined ? { ...json, ...headers } : headers,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    };
    out.push(request);
    return request;
  };

  for (const p of pathParams) {
    for (const v of badValues(p.schema, p.name))
      add(`path ${p.name}=${text(v).slice(0, 20)}`, pathWith({ [p.name]: text(v) }), bodySchema ? valid : undefined);
  }
  for (const p of params.filter((q) => q.in === 'query')) {
    for (const v of badValues(p.schema, p.name)) {
      const value = component(text(v));
      if (value !== undefined)
        add(`query ${p.name}=${text(v).slice(0, 20)}`, `${pathWith()}?${p.name}=${value}`).field = p.name;
    }
  }
  add(
    'unknown query parameter',
    `${pathWith()}?surprise=${encodeURIComponent(INJECTIONS[0])}`,
    bodySchema ? valid : undefined,
  );
  for (const p of params.filter((h) => h.in === 'header')) {
    for (const v of ['x'.repeat(5000), ...INJECTIONS, UNICODE[0]]) {
      // fetch refuses header values that are not ByteStrings; those never reach a server anyway.
      if (/^[\x20-\x7e]*$/.test(v))
        add(`header ${p.name}=${v.slice(0, 20)}`, pathWith(), bodySchema ? valid : undefined, { [p.name]: v });
    }
  }
  if (!bodySchema) return out;
  for (const [prop, schema] of Object.entries(bodySchema.properties ?? {})) {
    for (const v of badValues(schema, prop))
      add(`body ${prop}=${text(v).slice(0, 20)}`, pathWith(), { ...valid, [prop]: v });
  }
  for (const prop of bodySchema.required ?? []) {
    const { [prop]: _left, ...rest } = valid;
    add(`body without ${prop}`, pathWith(), rest);
  }
  add('body with an extra field', pathWith(), { ...valid, isAdmin: true, __proto__: { polluted: true } });
  add(
    'body with a prototype key',
    pathWith(),
    undefined,
    {},
    `{"__proto__":{"polluted":true},${JSON.stringify(valid).slice(1)}`,
  );
  for (const body of [[], 'x', 1, null, [valid]]) add(`body ${text(body).slice(0, 20)}`, pathWith(), body);
  add('deeply nested body', pathWith(), undefined, {}, `${'['.repeat(5000)}${']'.repeat(5000)}`);
  add('truncated JSON', pathWith(), undefined, {}, JSON.stringify(valid).slice(0, -1));
  add('form body', pathWith(), undefined, { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
  return out;
}
