import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newSecret, webhookHeaders } from './signature.js';

test('when a body is signed, then the standardwebhooks library verifies it, and a changed body does not', () => {
  const secret = newSecret();
  const body = JSON.stringify({ type: 'booking.confirmed', timestamp: new Date().toISOString(), data: { id: 'b1' } });
  const headers = webhookHeaders([secret], 'msg_1', Math.floor(Date.now() / 1000), body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(secret).verify(body.replace('b1', 'b2'), headers));
});

test('when two secrets sign (a rotation), then the header carries two v1 signatures and either secret verifies', () => {
  const [next, previous] = [newSecret(), newSecret()];
  const body = '{"type":"event.updated"}';
  const headers = webhookHeaders([next, previous], 'msg_2', Math.floor(Date.now() / 1000), body);
  assert.match(headers['webhook-signature'] ?? '', /^v1,\S+ v1,\S+$/);
  for (const s of [next, previous]) new Webhook(s).verify(body, headers);
  assert.throws(() => new Webhook(newSecret()).verify(body, headers));
});
