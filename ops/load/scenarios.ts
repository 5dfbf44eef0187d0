// Load scenarios against any Evently URL, through the public API only: each
// sets its scene (an event, a crowd of users), then describes what every
// autocannon connection sends, one user per connection. After the run each
// checks what it can through the API: seats sold must equal the bookings
// that got 201 (minus those cancelled).
import type autocannon from 'autocannon';
import { createEvent, registerUsers } from '../bench/api.js';

export const LOAD_SCENARIOS = ['browse', 'flash', 'mixed', 'waitlist'] as const;
export type LoadScenario = (typeof LOAD_SCENARIOS)[number];

export interface Scene {
  eventId: string;
  capacity: number;
  tokens: string[];
  /** Counted from responses while the load runs. */
  tally: { booked: number; cancelled: number };
}

export interface ScenarioPlan {
  describe: string;
  /** A fresh list per connection: what one connection remembers (its last booking) stays its own. */
  requests: () => autocannon.Request[];
}
const json = (body: string): { id?: string } => {
  try {
    return JSON.parse(body) as { id?: string };
  } catch {
    return {};
  }
};

export async function setScene(
  base: string,
  adminToken: string,
  scenario: LoadScenario,
  users: number,
): Promise<Scene> {
  // The flash sale sells out: its users want up to two seats each, twice what there is.
  const capacity = { browse: 1000, flash: users, mixed: 100_000, waitlist: 5 }[scenario];
  const eventId = await createEvent(base, adminToken, {
    name: `Load ${scenario}`,
    capacity,
    maxTicketsPerUser: scenario === 'mixed' ? 10_000 : 2,
  });
  const tokens = scenario === 'browse' ? [] : await registerUsers(base, users);
  if (scenario === 'waitlist') await sellOut(base, eventId, capacity);
  return { eventId, capacity, tokens, tally: { booked: 0, cancelled: 0 } };
}

/** A waitlist opens only on a sold-out event: sold out here by users of its own. */
async function sellOut(base: string, eventId: string, capacity: number): Promise<void> {
  for (const token of await registerUsers(base, Math.ceil(capacity / 2))) {
    await fetch(`${base}/v1/events/${eventId}/bookings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"quantity":2}',
    });
  }
}

export function plan(scenario: LoadScenario, scene: Scene): ScenarioPlan {
  const event = `/v1/events/${scene.eventId}`;
  const booking = (onBooked: (id: string) => void = () => undefined): autocannon.Request => ({
    method: 'POST',
    path: `${event}/bookings`,
    body: '{"quantity":1}',
    onResponse: (status, body) => {
      if (status !== 201) return;
      scene.tally.booked++;
      onBooked(json(body).id ?? '');
    },
  });
  switch (scenario) {
    case 'browse':
      return {
        describe: 'GET one event, then the event list',
        requests: () => [
          { method: 'GET', path: event },
          { method: 'GET', path: '/v1/events?limit=20' },
        ],
      };
    case 'flash':
      return {
        describe: `every user books 1 seat at a time (limit 2) of ${scene.capacity} until sold out`,
        requests: () => [booking()],
      };
    case 'mixed':
      return {
        describe: 'browse the event, book 1 seat, cancel that booking',
        requests: () => {
          let last: string | undefined;
          return [
            { method: 'GET', path: event },
            booking((id) => {
              last = id;
            }),
            {
              method: 'POST',
              body: '{}',
              // No booking (sold out, refused): browse instead of cancelling.
              setupRequest: (req) =>
                last
                  ? { ...req, path: `/v1/bookings/${last}/cancel` }
                  : { ...req, method: 'GET', path: event, body: undefined },
              onResponse: (status) => {
                if (last && status === 200) scene.tally.cancelled++;
                last = undefined;
              },
            },
          ];
        },
      };
    case 'waitlist':
      return {
        describe: `every user joins the waitlist of a sold-out event, then polls their position (POST ${event}/waitlist, GET …/waitlist/me)`,
        requests: () => [
          { method: 'POST', path: `${event}/waitlist`, body: '{"quantity":1}' },
          { method: 'GET', path: `${event}/waitlist/me` },
        ],
      };
  }
}

/**
 * What the API says afterwards: seats sold against the bookings that got 201
 * and were not cancelled. Requests still in flight when autocannon stopped
 * may have booked or cancelled without their answer being counted, so the
 * two may differ by up to one per connection; a sold-out event is exact.
 */
export async function checkThroughApi(
  base: string,
  scenario: LoadScenario,
  scene: Scene,
  connections: number,
): Promise<string> {
  if (scenario === 'browse' || scenario === 'waitlist') return '–';
  const res = await fetch(`${base}/v1/events/${scene.eventId}`);
  const event = (await res.json()) as { available?: number; capacity?: number };
  if (event.available === undefined || event.capacity === undefined) return `could not read the event (${res.status})`;
  const sold = event.capacity - event.available;
  const expected = scene.tally.booked - scene.tally.cancelled;
  const counted = `${scene.tally.booked} booked − ${scene.tally.cancelled} cancelled`;
  if (sold > event.capacity || event.available < 0) return `**OVERSOLD**: sold ${sold} of ${event.capacity}`;
  if (sold === expected) return `OK: sold ${sold} = ${counted}`;
  return Math.abs(sold - expected) <= connections
    ? `OK: sold ${sold}, ${counted} = ${expected} (the rest were in flight at the stop)`
    : `**MISMATCH**: sold ${sold}, but ${counted} = ${expected}`;
}
