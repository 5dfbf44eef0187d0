import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../ops/testing/repo-root.js';
import { ConfigError, envOf, JOIN_SETTINGS, loadConfig, settings, withOverrides } from './config.js';

test('when nothing is set, then every setting has its documented default', () => {
  const config = loadConfig({});
  assert.equal(config.httpPort, 3000);
  assert.equal(config.shards, 16);
  assert.equal(config.batching, true);
  assert.equal(config.natsUrl, undefined);
  assert.ok(Object.isFrozen(config));
});

test('when values are bad, then start-up stops with every bad name in one message', () => {
  assert.throws(
    () =>
      loadConfig({ EVENTLY_HTTP_PORT: 'eighty', EVENTLY_SHARDS: '0', EVENTLY_BATCHING: 'maybe', NATS_URL: 'http://x' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const name of ['EVENTLY_HTTP_PORT', 'EVENTLY_SHARDS', 'EVENTLY_BATCHING', 'NATS_URL'])
        assert.match(err.message, new RegExp(name));
      return true;
    },
  );
});

/** How docs/configuration.md writes a default, or undefined when it explains it in words (generated, derived, none). */
function shownDefault(value: unknown): string | undefined {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  if (typeof value === 'boolean') return value ? '`on`' : '`off`';
  if (typeof value === 'string' && isAbsolute(value)) return `\`./${relative(process.cwd(), value)}\``;
  return `\`${String(value)}\``;
}

test('when docs/configuration.md is read, then its tables list every setting once, with its default', async () => {
  const doc = await readFile(join(repoRoot(), 'docs', 'configuration.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (.+?) \| .+ \|$/gm)].map(([, env, dflt]) => ({ env, dflt }));
  const documented = rows.map((r) => r.env);
  const declared = Object.values(settings).map((s) => s.env);
  assert.deepEqual([...documented].sort(), declared.sort(), 'the same variables, each once');
  for (const s of Object.values(settings)) {
    const row = rows.find((r) => r.env === s.env);
    const expected = shownDefault(s.default);
    if (expected === undefined) assert.doesNotMatch(row?.dflt ?? '', /^`[^`]*`$/, `${s.env}: no default value`);
    else assert.equal(row?.dflt, expected, `${s.env}: default`);
  }
});

test('when another process gets envOf(config), then it loads the same values for those settings', () => {
  const config = withOverrides(loadConfig({}), {
    natsUrl: 'nats://10.0.0.2:4222',
    jwtSecret: 'a shared secret of enough length',
    shards: 8,
    disabledPools: ['mailer', 'pricing'],
    leaseTtlMs: 6000,
  });
  const keys = [...JOIN_SETTINGS, 'disabledPools', 'leaseTtlMs'] as const;
  const joined = loadConfig(envOf(config, keys));
  for (const key of keys) assert.deepEqual(joined[key], config[key], key);
  assert.equal(envOf(config, ['publicUrl']).EVENTLY_PUBLIC_URL, undefined, 'an unset setting stays unset');
});
