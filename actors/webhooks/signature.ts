// Standard Webhooks signatures: HMAC-SHA256 over "{id}.{timestamp}.{body}"
// keyed with the base64 key after "whsec_", sent as "v1,<base64>". During a
// rotation's grace period the previous secret signs too; the header carries
// both, space-separated, as the specification allows, so a receiver holding
// either key verifies.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new secret: 24 random bytes, the size the Standard Webhooks libraries generate. */
export const newSecret = (): string => PREFIX + randomBytes(24).toString('base64');

const keyOf = (secret: string): Buffer =>
  Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');

export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** The three headers of one attempt; `timestamp` is the attempt's own (unix seconds). */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, body)).join(' '),
  };
}
