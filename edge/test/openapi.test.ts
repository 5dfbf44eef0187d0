// The OpenAPI document the edge serves is complete (every route: summary,
// examples, problem responses), docs/api.md describes exactly its routes, and
// the three places that list error codes agree: the catalogue, the OpenAPI
// document and the table of docs/api.md.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { errorCatalogue } from '../../protocol/index.js';
import { repoRoot } from '../../ops/testing/repo-root.js';
import { startTestSystem, type TestSystem } from '../../ops/testing/harness.js';

type Schema = {
  examples?: unknown[];
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
  const?: string;
  enum?: string[];
};
type Media = { schema: Schema; example?: unknown; examples?: Record<string, unknown> };
type Operation = {
  summary?: string;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
};
// @fastify/swagger moves a schema's single example up to the media type.
const hasExample = (m: Media | undefined) =>
  Boolean(m && (m.example !== undefined || m.examples || m.schema.examples?.length));

let t: TestSystem;
let doc: { info: { description: string }; paths: Record<string, Record<string, Operation>> };
before(async () => {
  t = await startTestSystem();
  doc = (await t.api('GET', '/docs/json')).body;
});
after(async () => {
  await t?.stop();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );
const catalogue = Object.entries(errorCatalogue).map(([code, e]) => ({
  code,
  status: e.status,
  title: e.title,
  retryable: e.retryable,
}));
const codesIn = (schema: Schema) => (schema.properties?.code?.anyOf ?? []).map((s) => s.const ?? s.enum?.[0]).sort();

test('when the OpenAPI document is read, then every operation has a summary, examples and problem responses that include 429, 500 and 503', () => {
  const ops = operations();
  assert.ok(ops.length >= 14, `${ops.length} operations`);
  for (const { name, op } of ops) {
    assert.ok(op.summary, `${name}: summary`);
    for (const [status, response] of Object.entries(op.responses)) {
      const code = Number(status);
      if (code >= 400) {
        const problem = response.content?.['application/problem+json'];
        assert.ok(problem, `${name} ${status}: problem+json`);
        assert.ok(hasExample(problem), `${name} ${status}: example`);
        assert.deepEqual(
          codesIn(problem.schema),
          Object.keys(errorCatalogue).sort(),
          `${name} ${status}: the catalogue's codes`,
        );
      } else if (code >= 200 && code < 300 && code !== 204) {
        // JSON, or what else the route sends (the bookings CSV).
        assert.ok(
          hasExample(response.content?.['application/json'] ?? Object.values(response.content ?? {})[0]),
          `${name} ${status}: example`,
        );
      }
    }
    for (const status of ['429', '500', '503']) assert.ok(op.responses[status], `${name}: ${status}`);
    if (op.requestBody) assert.ok(hasExample(op.requestBody.content['application/json']), `${name}: body example`);
  }
});

const apiDoc = () => readFile(join(repoRoot(), 'docs', 'api.md'), 'utf8');

test('when docs/api.md and the OpenAPI document are compared, then they list the same routes', async () => {
  // A route of api.md is the first cell of a table row: `METHOD /path`, parameters written :name.
  const documented = [...(await apiDoc()).matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)` \|/gm)].map(
    ([, method, path = '']) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`,
  );
  const served = operations().map((o) => o.name);
  assert.deepEqual(
    documented.filter((r, i) => documented.indexOf(r) !== i),
    [],
    'documented twice',
  );
  assert.deepEqual(
    served.filter((r) => !documented.includes(r)),
    [],
    'served, missing from docs/api.md',
  );
  assert.deepEqual(
    documented.filter((r) => !served.includes(r)),
    [],
    'in docs/api.md, not served',
  );
});

test('when the catalogue, the OpenAPI description and docs/api.md are compared, then their codes agree', async () => {
  const tableRows = (text: string) =>
    [...text.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (.+?) \| (yes|no) \|$/gm)].map(
      ([, code, status, title, retryable]) => ({ code, status: Number(status), title, retryable: retryable === 'yes' }),
    );
  assert.deepEqual(tableRows(await apiDoc()), catalogue, 'docs/api.md');
  assert.deepEqual(tableRows(doc.info.description), catalogue, 'OpenAPI description');
  for (const { code, status } of catalogue) {
    assert.ok(status >= 400 && status < 600, code);
    assert.match(code, /^[A-Z][A-Z_]+$/);
  }
});
