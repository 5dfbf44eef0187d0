// OpenAPI examples of the ticket and check-in routes (kept apart from
// examples.ts, which is long enough).
const eventId = '01937a4c-1f00-7000-8000-0000000000ee';
const bookingId = '01937a4c-1f00-7000-8000-0000000000bb';
const code =
  'AVq3x9IBk3pMHwBwAIAAAAAAAAAO7gGTekwfAHAAgAAAAAAAAAC7AAA3rR0wPkgYdbQ2bJ8aWe1p1pyLkk6tYLl0x8QvyyUK2ZLIq7kVz1pp3Lm2vRD_4K6o6F2VmOfqK4MwnbqKBAw';

export const ticketExample = {
  id: '5f0e7c9a-2b1d-5a3e-8f4c-1d2e3f4a5b6c',
  bookingId,
  eventId,
  seq: 0,
  status: 'valid',
  code,
  checkedInAt: null,
  gate: null,
};

export const ticketExamples = {
  tickets: { items: [ticketExample, { ...ticketExample, id: '7a1b2c3d-4e5f-5a6b-9c7d-8e9f0a1b2c3d', seq: 1 }] },
  keys: { keys: [{ kid: 'Wrfz0g', alg: 'Ed25519', publicKey: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] },
  checkinBody: { code, eventId, gate: 'north-1', nonce: 'scanner-7:000123' },
  checkedIn: {
    result: 'ok',
    ticket: { ...ticketExample, status: 'checked_in', checkedInAt: '2027-06-01T19:12:03.120Z', gate: 'north-1' },
  },
  batchBody: { scans: [{ code, scannedAt: '2027-06-01T19:12:03.120Z', gate: 'north-1', nonce: 'scanner-7:000124' }] },
  batchResults: {
    results: [
      {
        nonce: 'scanner-7:000124',
        result: 'ok',
        ticketId: ticketExample.id,
        checkedInAt: '2027-06-01T19:12:03.120Z',
        gate: 'north-1',
      },
    ],
  },
  revoked: {
    items: [{ ticketId: '7a1b2c3d-4e5f-5a6b-9c7d-8e9f0a1b2c3d', revokedAt: '2027-05-30T10:00:00.000Z' }],
    until: '2027-06-01T19:11:50.000Z',
  },
  figures: { eventId, checkedIn: 312, sold: 480, gates: { 'north-1': 170, 'south-1': 142 } },
  resent: { queued: true },
} as const;
