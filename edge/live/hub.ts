// Who is connected to this edge and what each one watches, and the one way a
// frame reaches a socket. A slow client never makes the edge buffer without
// bound: availability frames are snapshots, so above the soft limit they are
// skipped (the next one carries the news); anything above the hard limit
// means the client has stopped reading, and it is cut off.
import { WebSocket } from 'ws';
import type { Role, ServerMessage } from '../../protocol/index.js';
import { nextTurn } from '../../platform/next-turn.js';

export interface LiveClient {
  readonly socket: WebSocket;
  readonly eventIds: Set<string>;
  /** Per watched event, the availability last written to this socket: never an older one after it, never the same twice. */
  readonly seen: Map<string, Seen>;
  userId: string | undefined;
  /** Signed in with an admin token: may follow the dashboard feed. */
  admin: boolean;
  /** The signed-in role: staff and admins may follow an event's check-in figure. */
  role?: Role;
  /** When the token that signed the user in expires, in ms since the epoch. */
  authExpiresAt: number;
  /** Cleared at each ping, set by the pong; still clear at the next ping means gone. */
  alive: boolean;
}

export interface Seen {
  version: number;
  watchers: number;
}

/** An availability message encoded once, with what it says for the per-socket checks. */
export interface AvailabilityFrame {
  seen: Seen;
  frame: Buffer;
}

export interface BufferLimits {
  soft: number;
  hard: number;
}

/** Serialised once, written to every socket that gets it. */
export const encode = (message: ServerMessage): Buffer => Buffer.from(JSON.stringify(message));

/** Sockets pinged in one turn of the edge's event loop (see LiveHub.heartbeat). */
export const PING_SLICE = 250;

export class LiveHub {
  readonly clients = new Set<LiveClient>();
  private readonly watchers = new Map<string, Set<LiveClient>>();
  private readonly users = new Map<string, Set<LiveClient>>();
  /** Admin sockets following the dashboard feed (`subscribe-dashboard`). */
  private readonly dashboards = new Set<LiveClient>();
  skippedFrames = 0;
  terminated = 0;

  /** Told whenever the number of local watchers of an event changes. */
  onWatchersChange: (eventId: string, count: number) => void = () => undefined;

  constructor(private readonly limits: BufferLimits) {}

  add(socket: WebSocket): LiveClient {
    const client: LiveClient = {
      socket,
      eventIds: new Set(),
      seen: new Map(),
      userId: undefined,
      admin: false,
      authExpiresAt: 0,
      alive: true,
    };
    this.clients.add(client);
    return client;
  }

  remove(client: LiveClient): void {
    if (!this.clients.delete(client)) return;
    for (const eventId of [...client.eventIds]) this.unwatch(client, eventId);
    this.signOut(client);
  }

  watch(client: LiveClient, eventId: string): void {
    if (client.eventIds.has(eventId)) return;
    client.eventIds.add(eventId);
    let set = this.watchers.get(eventId);
    if (!set) this.watchers.set(eventId, (set = new Set()));
    set.add(client);
    this.onWatchersChange(eventId, set.size);
  }

  unwatch(client: LiveClient, eventId: string): void {
    if (!client.eventIds.delete(eventId)) return;
    client.seen.delete(eventId);
    const set = this.watchers.get(eventId);
    if (!set) return;
    set.delete(client);
    if (set.size === 0) this.watchers.delete(eventId);
    this.onWatchersChange(eventId, set.size);
  }

  localWatchers(eventId: string): number {
    return this.watchers.get(eventId)?.size ?? 0;
  }

  /** Every event watched here with its number of local watchers (what presence reports). */
  localCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [eventId, set] of this.watchers) out[eventId] = set.size;
    return out;
  }

  signIn(client: LiveClient, userId: string, expiresAt: number, role: Role | undefined): void {
    const admin = role === 'admin';
    if (client.userId !== userId || !admin) this.signOut(client);
    client.userId = userId;
    client.admin = admin;
    client.role = role;
    client.authExpiresAt = expiresAt;
    let set = this.users.get(userId);
    if (!set) this.users.set(userId, (set = new Set()));
    set.add(client);
  }

  signOut(client: LiveClient): void {
    // Whoever signs in next on this socket must ask for the dashboard again, and be an admin.
    this.dashboards.delete(client);
    client.admin = false;
    client.role = undefined;
    if (client.userId === undefined) return;
    const set = this.users.get(client.userId);
    set?.delete(client);
    if (set?.size === 0) this.users.delete(client.userId);
    client.userId = undefined;
  }

  hasUser(userId: string): boolean {
    return this.users.has(userId);
  }

  /** The users with at least one signed-in socket. */
  userIds(): IterableIterator<string> {
    return this.users.keys();
  }

  /** The caller has checked that the client is a signed-in admin. */
  followDashboard(client: LiveClient): void {
    this.dashboards.add(client);
  }

  hasDashboards(): boolean {
    return this.dashboards.size > 0;
  }

  /** An activity frame to every dashboard whose admin sign-in is still valid; skippable like availability (the page re-reads the summary). */
  toDashboards(frame: Buffer): void {
    const now = Date.now();
    for (const client of [...this.dashboards]) {
      if (client.authExpiresAt <= now) this.expire(client);
      else this.deliver(client, frame, true);
    }
  }

  /** Availability to every local watcher of the event. */
  toWatchers(eventId: string, availability: AvailabilityFrame): void {
    const set = this.watchers.get(eventId);
    if (set) for (const client of set) this.deliverAvailability(client, eventId, availability, true);
  }

  /** Skippable when the socket is slow (the next snapshot carries the news); skipped frames are not marked seen. */
  deliverAvailability(
    client: LiveClient,
    eventId: string,
    { seen, frame }: AvailabilityFrame,
    skippable: boolean,
  ): void {
    const last = client.seen.get(eventId);
    if (last && (last.version > seen.version || (last.version === seen.version && last.watchers === seen.watchers)))
      return;
    if (this.deliver(client, frame, skippable)) client.seen.set(eventId, seen);
  }

  /** A user's own news to each of their sockets whose sign-in is still valid. */
  toUser(userId: string, frame: Buffer): void {
    const set = this.users.get(userId);
    if (!set) return;
    const now = Date.now();
    for (const client of [...set]) {
      if (client.authExpiresAt <= now) this.expire(client);
      else this.deliver(client, frame, false);
    }
  }

  private expire(client: LiveClient, detail = 'token expired; send a new auth message'): void {
    this.signOut(client);
    this.deliver(client, encode({ type: 'error', code: 'UNAUTHENTICATED', detail }), false);
  }

  /** A user's account changed (disabled, deleted, new role): every socket signed in as them is signed out at once. */
  revoke(userId: string): void {
    for (const client of [...(this.users.get(userId) ?? [])])
      this.expire(client, 'your account changed; send a new auth message');
  }

  /** Writes the frame unless the socket is closed or (skippable frames only) slow; says whether it did. */
  deliver(client: LiveClient, frame: Buffer, skippable: boolean): boolean {
    const { socket } = client;
    if (socket.readyState !== WebSocket.OPEN) return false;
    if (skippable && socket.bufferedAmount > this.limits.soft) {
      this.skippedFrames++;
      return false;
    }
    socket.send(frame, { binary: false });
    if (socket.bufferedAmount > this.limits.hard) this.cutOff(client);
    return true;
  }

  /**
   * One heartbeat: a client that missed the last pong is cut off (a dead peer leaves no FIN), the others
   * are pinged, PING_SLICE a loop turn. 5,000 pings written in one go held the edge's loop for 50-100 ms
   * (a CPU profile of the waiting-room bench), and the bookings that arrived meanwhile waited behind it.
   */
  async heartbeat(): Promise<void> {
    let i = 0;
    for (const client of [...this.clients]) {
      if (i > 0 && i % PING_SLICE === 0) await nextTurn();
      i += 1;
      if (!this.clients.has(client)) continue; // gone meanwhile
      if (!client.alive) {
        this.cutOff(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  /** Gone without a word (full buffer, missed pong): the socket is destroyed, not closed politely. */
  cutOff(client: LiveClient): void {
    this.terminated++;
    client.socket.terminate();
    this.remove(client);
  }
}
