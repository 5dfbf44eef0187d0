// One WebSocket client: each message it sends is size-checked, parsed and
// validated against the protocol before anything acts on it. Nothing a client
// sends closes its socket: a bad message gets an error frame and the socket
// stays open (only ws itself closes one whose frame exceeds its hard cap).
import type { RawData, WebSocket } from 'ws';
import { Compile } from 'typebox/compile';
import { ClientMessage, type ErrorCode, type Role, type ServerMessage } from '../../protocol/index.js';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { encode, type LiveClient, type LiveHub } from './hub.js';
import type { Presence } from './presence.js';
import type { CheckinFeed } from './checkin-feed.js';
import type { QueueWatch } from './queue.js';
import { availabilityFrame, type Snapshots } from './snapshots.js';

/** What a verified token says; `exp` in seconds since the epoch. */
export interface SignedIn {
  sub: string;
  role?: Role;
  exp?: number;
}

export interface SocketDeps {
  hub: LiveHub;
  snapshots: Snapshots;
  presence: Presence;
  queue: QueueWatch;
  /** The token's claims if it is valid and its user's account still backs it. */
  verify(token: string, requestId: string): Promise<SignedIn | undefined>;
  maxMessage: number;
  maxSubscriptions: number;
  checkin: CheckinFeed;
  log: Logger;
}

/** One validator per message type, so an error names what is wrong with that message, not "no variant matched". */
const validators = new Map<string, ReturnType<typeof Compile<(typeof ClientMessage.anyOf)[number]>>>(
  ClientMessage.anyOf.map((schema) => [schema.properties.type.const, Compile(schema)]),
);
const TYPES = [...validators.keys()].join(', ');

const expiryOf = (user: SignedIn): number => (user.exp ? user.exp * 1000 : Number.POSITIVE_INFINITY);

export function attachSocket(socket: WebSocket, requestId: string, user: SignedIn | undefined, deps: SocketDeps): void {
  const client = deps.hub.add(socket);
  if (user) deps.hub.signIn(client, user.sub, expiryOf(user), user.role);
  socket.on('message', (data, isBinary) => onMessage(client, requestId, data, isBinary, deps));
  socket.on('pong', () => {
    client.alive = true;
  });
  socket.on('close', () => {
    deps.checkin.forget(client);
    deps.hub.remove(client);
    deps.queue.drop(client);
  });
}

function reply(client: LiveClient, message: ServerMessage, { hub }: SocketDeps): void {
  hub.deliver(client, encode(message), false);
}
function fail(client: LiveClient, code: ErrorCode, detail: string, deps: SocketDeps): void {
  reply(client, { type: 'error', code, detail }, deps);
}

function onMessage(client: LiveClient, requestId: string, data: RawData, isBinary: boolean, deps: SocketDeps): void {
  if (isBinary) {
    fail(client, 'UNSUPPORTED_MEDIA_TYPE', 'send JSON in text frames', deps);
    return;
  }
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  if (bytes.length > deps.maxMessage) {
    fail(client, 'PAYLOAD_TOO_LARGE', `a message is at most ${deps.maxMessage} bytes`, deps);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail(client, 'MALFORMED_JSON', 'message is not valid JSON', deps);
    return;
  }
  const type = typeof parsed === 'object' && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
  const check = typeof type === 'string' ? validators.get(type) : undefined;
  if (!check) {
    fail(
      client,
      'VALIDATION_FAILED',
      `unknown message type ${JSON.stringify(type ?? null).slice(0, 40)}; expected one of ${TYPES}`,
      deps,
    );
    return;
  }
  if (!check.Check(parsed)) {
    const errors = check
      .Errors(parsed)
      .filter((e) => e.keyword !== 'boolean')
      .slice(0, 5);
    fail(client, 'VALIDATION_FAILED', errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; '), deps);
    return;
  }
  const message = parsed;
  switch (message.type) {
    case 'auth':
      return void authenticate(client, requestId, message.token, deps);
    case 'subscribe': {
      subscribe(client, requestId, message.eventIds, deps);
      return;
    }
    case 'unsubscribe': {
      unsubscribe(client, message.eventIds, deps);
      return;
    }
    case 'subscribe-dashboard': {
      followDashboard(client, deps);
      return;
    }
    case 'subscribe-checkin': {
      followCheckin(client, requestId, message.eventId.toLowerCase(), deps);
      return;
    }
    case 'subscribe-queue': {
      followQueue(client, requestId, message.eventId.toLowerCase(), deps);
      return;
    }
  }
}

async function authenticate(client: LiveClient, requestId: string, token: string, deps: SocketDeps): Promise<void> {
  const user = await deps.verify(token, requestId).catch(() => undefined);
  if (!user) {
    // A failed sign-in also ends the previous one: the socket is not left speaking for someone unproven.
    deps.hub.signOut(client);
    fail(client, 'UNAUTHENTICATED', 'token is not valid, has expired or was revoked', deps);
    return;
  }
  deps.hub.signIn(client, user.sub, expiryOf(user), user.role);
  reply(client, { type: 'ack', of: 'auth', userId: user.sub }, deps);
}

// Event ids are compared in the canonical lower case the database returns and domain events carry.
const canonical = (eventIds: string[]) => [...new Set(eventIds.map((id) => id.toLowerCase()))];

function subscribe(client: LiveClient, requestId: string, eventIds: string[], deps: SocketDeps): void {
  const ids = canonical(eventIds);
  const fresh = ids.filter((id) => !client.eventIds.has(id));
  if (client.eventIds.size + fresh.length > deps.maxSubscriptions) {
    fail(
      client,
      'VALIDATION_FAILED',
      `a socket watches at most ${deps.maxSubscriptions} events (this one watches ${client.eventIds.size})`,
      deps,
    );
    return;
  }
  for (const id of fresh) deps.hub.watch(client, id);
  reply(client, { type: 'ack', of: 'subscribe', eventIds: ids }, deps);
  for (const id of ids) {
    sendSnapshot(client, requestId, id, deps).catch((err: unknown) =>
      deps.log.error({ err, eventId: id }, 'snapshot not sent'),
    );
  }
}

/** The subscriber never starts blind: the event's current availability, at once. */
async function sendSnapshot(client: LiveClient, requestId: string, eventId: string, deps: SocketDeps): Promise<void> {
  const outcome = await deps.snapshots.current(eventId, requestId);
  if (!client.eventIds.has(eventId)) return;
  if (!outcome.ok) {
    if (outcome.code === 'NOT_FOUND') deps.hub.unwatch(client, eventId);
    fail(client, outcome.code, outcome.detail, deps);
    return;
  }
  // The total without marking it pushed: the other watchers still get their own update of it.
  deps.hub.deliverAvailability(
    client,
    eventId,
    availabilityFrame(eventId, outcome.value, deps.presence.total(eventId)),
    false,
  );
}

/** The dashboard feed tells of every sale: admins only, as the analytics API is. */
function followDashboard(client: LiveClient, deps: SocketDeps): void {
  if (client.userId === undefined) {
    fail(client, 'UNAUTHENTICATED', 'send an auth message with an admin token first', deps);
    return;
  }
  if (!client.admin) {
    fail(client, 'FORBIDDEN', 'the dashboard feed is for admins only', deps);
    return;
  }
  deps.hub.followDashboard(client);
  reply(client, { type: 'ack', of: 'subscribe-dashboard' }, deps);
}

/** An event's live check-in figure: for the door staff and admins. */
function followCheckin(client: LiveClient, requestId: string, eventId: string, deps: SocketDeps): void {
  if (client.userId === undefined) {
    fail(client, 'UNAUTHENTICATED', 'send an auth message with a staff token first', deps);
    return;
  }
  if (client.role !== 'staff' && client.role !== 'admin') {
    fail(client, 'FORBIDDEN', 'check-in figures are for staff and admins only', deps);
    return;
  }
  deps.checkin
    .follow(client, eventId, requestId)
    .catch((err: unknown) => deps.log.error({ err, eventId }, 'check-in figure not sent'));
}

/** The user's place in the event's waiting room, now and as it moves; then the admission. */
function followQueue(client: LiveClient, requestId: string, eventId: string, deps: SocketDeps): void {
  if (client.userId === undefined) {
    fail(client, 'UNAUTHENTICATED', 'send an auth message first: a queue place is personal', deps);
    return;
  }
  deps.queue.subscribe(client, eventId, requestId).then(
    (outcome) => {
      if (!outcome.ok) fail(client, outcome.code, outcome.detail, deps);
    },
    (err: unknown) => deps.log.error({ err, eventId }, 'queue subscription failed'),
  );
}

function unsubscribe(client: LiveClient, eventIds: string[], deps: SocketDeps): void {
  const ids = canonical(eventIds);
  for (const id of ids) deps.hub.unwatch(client, id);
  reply(client, { type: 'ack', of: 'unsubscribe', eventIds: ids }, deps);
}
