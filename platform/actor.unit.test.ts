import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceOf } from './actor.js';

test('when actor threads start, then background kinds yield most, the waiting room a little, the booking path not at all', () => {
  const config = { backgroundNice: 10, waitroomNice: 5 };
  for (const kind of ['mailer', 'analytics', 'pricing', 'audit', 'webhooks'] as const)
    assert.equal(niceOf(kind, config), 10, kind);
  assert.equal(niceOf('waitroom', config), 5);
  for (const kind of ['inventory', 'identity', 'waitlist', 'checkin'] as const)
    assert.equal(niceOf(kind, config), 0, kind);
  assert.equal(niceOf('waitroom', { ...config, waitroomNice: 0 }), 0, 'turned off');
});
