import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressProblem, isAllowedHost, urlProblem } from './address-guard.js';

test('when addresses are loopback, private, link-local, metadata or mapped onto them, then each is refused; public ones pass', () => {
  for (const bad of [
    '127.0.0.1',
    '10.0.0.5',
    '172.20.1.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '224.0.0.1',
  ]) {
    assert.ok(addressProblem(bad), bad);
  }
  for (const good of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
    assert.equal(addressProblem(good), undefined, good);
});

test('when the allow-list names a host or host:port, then only that host (and port) is allowed', () => {
  assert.ok(isAllowedHost(new URL('http://127.0.0.1:8080/x'), ['127.0.0.1:8080']));
  assert.ok(!isAllowedHost(new URL('http://127.0.0.1:8081/x'), ['127.0.0.1:8080']));
  assert.ok(isAllowedHost(new URL('https://Hooks.Internal/x'), ['hooks.internal']));
  assert.ok(isAllowedHost(new URL('https://hooks.internal/x'), ['hooks.internal:443']));
  assert.ok(!isAllowedHost(new URL('http://hooks.internal/x'), ['hooks.internal:443']));
});

test('when a URL is registered, then a private literal, a name resolving to loopback and a non-http scheme are refused naming url', async () => {
  assert.match(
    (await urlProblem('http://192.168.0.10/hook', [])) ?? '',
    /^url refused: 192\.168\.0\.10 is a loopback, private/,
  );
  assert.match((await urlProblem('http://localhost:9/hook', [])) ?? '', /^url refused: localhost resolves to/);
  assert.match((await urlProblem('ftp://example.com/', [])) ?? '', /^url must use http or https/);
  assert.match((await urlProblem('http://user:pw@example.com/', [])) ?? '', /credentials/);
  assert.equal(await urlProblem('http://localhost:9/hook', ['localhost:9']), undefined);
  assert.equal(await urlProblem('http://93.184.216.34/hook', []), undefined);
});
