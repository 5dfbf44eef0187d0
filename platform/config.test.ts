import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ConfigError, loadConfig, settings } from './config.js';

test('when nothing is set, then every setting has its documented default', () => {
  const config = loadConfig({});
  assert.equal(config.httpPort, 3000);
  assert.equal(config.shards, 16);
  assert.equal(config.batching, true);
  assert.equal(config.natsUrl, undefined);
  assert.ok(Object.isFrozen(config));
});

test('when values are bad, then start-up stops with every bad name in one message', () => {
  assert.throws(() => loadConfig({ EVENTLY_HTTP_PORT: 'eighty', EVENTLY_SHARDS: '0', EVENTLY_BATCHING: 'maybe', NATS_URL: 'http://x' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const name of ['EVENTLY_HTTP_PORT', 'EVENTLY_SHARDS', 'EVENTLY_BATCHING', 'NATS_URL']) assert.match(err.message, new RegExp(name));
      return true;
    });
});

test('when the README is read, then its configuration table lists every setting', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const s of Object.values(settings)) assert.match(readme, new RegExp(`\\| \`${s.env}\` \\|`), `${s.env} in README`);
});
