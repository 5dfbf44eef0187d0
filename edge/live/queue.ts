// Waiting-room positions over /ws. A signed-in socket sends `subscribe-queue`;
// the edge asks the room's actor once where the user stands (place, rank, and
// the tick seq that place reflects). From then on every tick's broadcast
// lists the ranks that left the line, so the edge moves each local user by
// the number of removed ranks ahead of them, with no request per user. A lost
// broadcast (seq gap), a redraw (`reset`) or a quiet 15 s make the edge ask
// again for all its users of that room in one request. Which moves become a
// frame is the frame budget's (frame-budget.ts): near the front every one,
// farther back a meaningful step.
//
// A poller of GET .../waiting-room/me follows the room the same way, with no
// socket: its first poll asks the room, later ones are answered here from its
// followed place (queue-polls.ts), so a crowd of pollers costs the room's thread
// about one request each instead of one per poll. Where this edge cannot trust
// its copy (no recent tick, a gap or redraw not yet resynced, nothing measured
// yet) or the user does not wait with a place, the room answers.
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { NatsConnection, Subscription } from 'nats';
import {
  estimateSeconds,
  QUEUE_SUBJECTS,
  waitroom,
  type CallContext,
  type Outcome,
  type Positions,
  type QueueChange,
  type QueueTicket,
} from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';
import { nextTurn } from '../../platform/next-turn.js';
import { frameDue, type Sent } from './frame-budget.js';
import { encode, type LiveClient, type LiveHub } from './hub.js';
import { admittedTicket, answered, Polls, waitingAnswer, type Poll } from './queue-polls.js';

interface Watcher {
  rank: number | null;
  position: number | null;
  epoch: string;
  /** The last tick applied to `position`. */
  seq: number;
  /** The place last sent to this user's sockets, under the frame budget. */
  sent: Sent;
  clients: Set<LiveClient>;
  /** While the user polls at this edge: the polls are answered from this place. */
  poll: Poll | null;
}

/** The last change of a room this edge applied (or is applying), and when it came. */
interface Head {
  epoch: string;
  seq: number;
  reset: boolean;
  ratePerSecond: number;
  spreadMs: number;
  at: number;
}

type PositionItem = Positions['items'][number];

interface Asked {
  outcome: Outcome<Positions>;
  item: PositionItem | undefined;
}

interface AskBatch {
  requestId: string;
  userIds: Set<string>;
  waiters: { userId: string; resolve: (a: Asked) => void }[];
}

const RESYNC_MS = 15_000;
/**
 * Watchers handled in one turn of the edge's event loop. A tick moves thousands of places at once;
 * written to their sockets in one go (a syscall each), 5,000 frames held the loop for tens of ms,
 * and the bookings of the people just admitted waited behind them. Between slices, the loop serves
 * whatever I/O is ready.
 */
const SLICE = 250;
// A reply stays well under NATS's 1 MB payload limit (a ticket is about 300 bytes).
const CHUNK = 1000;
/** Positions requests of subscribes and polls out at once per room (see askWithOthers). */
const ASKS_IN_FLIGHT = 2;

/** How many of the sorted `removed` ranks are below `rank`. */
function removedAhead(removed: readonly number[], rank: number): number {
  let lo = 0;
  let hi = removed.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const value = removed[mid];
    if (value !== undefined && value < rank) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Pollers not polled for their time are forgotten this often. */
const SWEEP_MS = 5_000;
/**
 * A room heard from within two ticks and a few seconds is followed; later (its thread stopped ticking,
 * this edge lost the broadcasts), polls ask the room. A late tick alone is no reason: places move only
 * at ticks, so until the next one the room would answer the same. A room turned off is not followed
 * from the moment the edge hears of it (routes/waiting-room.ts asks the room then).
 */
const fresh = (head: Head, now: number) => now - head.at <= 2 * head.spreadMs + 5_000;

export class QueueWatch {
  private readonly rooms = new Map<string, Map<string, Watcher>>();
  private readonly lastSync = new Map<string, number>();
  /**
   * Rooms with a resync under way, with the change time of one asked for meanwhile (null: none).
   * One at a time per room: a resync of thousands of sockets can outlast a tick, and each tick it
   * outlasts would otherwise start another, all of them competing for the same actor thread.
   */
  private readonly resyncing = new Map<string, number | null>();
  private readonly sub: Subscription;
  /** Per room, the change being applied (and those queued behind it). */
  private readonly applying = new Map<string, Promise<void>>();
  /** Per room, the subscribes and polls waiting to be asked about together (see askWithOthers). */
  private readonly asking = new Map<string, AskBatch>();
  /** Per room, batches that reached CHUNK while ASKS_IN_FLIGHT were out, in order. */
  private readonly fullAsks = new Map<string, AskBatch[]>();
  /** Per room, the positions requests of askWithOthers not yet answered. */
  private readonly asksOut = new Map<string, number>();
  /** Admitted frames waiting for their turn within their tick. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly heads = new Map<string, Head>();
  private readonly polls = new Polls();
  /**
   * Per socket, the rooms (and as which user) it follows: a closing socket leaves only those, not a
   * scan of every follower of every room, which made the crowd's tabs closing during a sale quadratic.
   */
  private readonly following = new Map<LiveClient, Map<string, string>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    nc: NatsConnection,
    private readonly broker: Broker,
    private readonly hub: LiveHub,
    private readonly log: Logger,
  ) {
    this.sub = nc.subscribe(QUEUE_SUBJECTS, {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.onChange(msg.json<QueueChange>());
        } catch (e) {
          log.warn({ err: e }, 'bad waiting-room change ignored');
        }
      },
    });
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_MS);
    this.sweeper.unref();
  }

  stop(): void {
    this.sub.unsubscribe();
    clearInterval(this.sweeper);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Runs `fn` in `ms` (now when 0); stop() cancels what has not run. */
  private later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** The user's ticket as first sent to the socket, or why the socket cannot follow the room. */
  async subscribe(client: LiveClient, eventId: string, requestId: string): Promise<Outcome<QueueTicket>> {
    const userId = client.userId!;
    const { outcome, item } = await this.askWithOthers(eventId, userId, requestId);
    if (!outcome.ok) return outcome;
    if (!item?.ticket)
      return { ok: false, code: 'NOT_FOUND', detail: 'join the waiting room first (POST /v1/events/:id/waiting-room)' };
    if (client.userId !== userId) return { ok: false, code: 'UNAUTHENTICATED', detail: 'signed out meanwhile' };
    const now = Date.now();
    const w = this.follower(eventId, userId, { rank: item.rank, ticket: item.ticket }, outcome.value, now, false);
    w.clients.add(client);
    let rooms = this.following.get(client);
    if (!rooms) this.following.set(client, (rooms = new Map<string, string>()));
    rooms.set(eventId, userId);
    this.sendTicket(client, item.ticket, now);
    if (item.ticket.state !== 'waiting') this.settle(eventId, userId, item.ticket);
    return { ok: true, status: 200, value: item.ticket };
  }

  /**
   * A poll of the user's ticket (GET .../waiting-room/me): answered from the room's ticks when this edge
   * follows the user and trusts its copy, else by the room, whose answer starts or renews the following
   * when the user waits with a place.
   */
  async poll(eventId: string, userId: string, ctx: CallContext): Promise<Outcome<QueueTicket>> {
    const local = this.answerHere(eventId, userId, Date.now());
    if (local) return { ok: true, status: 200, value: local };
    const { outcome, item } = await this.askWithOthers(eventId, userId, ctx.requestId);
    if (!outcome.ok) return outcome;
    const ticket = item?.ticket;
    if (!item || !ticket) {
      // No live ticket: the room says which one the user had (expired, left), or that there is none.
      this.forget(eventId, userId);
      return this.broker.call(waitroom.mine, { eventId }, ctx);
    }
    // Before the draw the room's answer is the only one: the interval it tells depends on the join order.
    if (ticket.state !== 'waiting' || ticket.position === null) this.forget(eventId, userId);
    else {
      const now = Date.now();
      const w = this.follower(eventId, userId, { rank: item.rank, ticket }, outcome.value, now, true);
      w.poll = this.polls.follow(eventId, userId, ticket, now);
    }
    return { ok: true, status: 200, value: ticket };
  }

  /** The user joined or left through this edge, or waits no more: their next poll asks the room. */
  forget(eventId: string, userId: string): void {
    if (!this.polls.get(eventId, userId)) return;
    this.polls.delete(eventId, userId);
    const w = this.rooms.get(eventId)?.get(userId);
    if (!w) return;
    w.poll = null;
    if (w.clients.size === 0) this.dropUser(eventId, userId);
  }

  /** The poll's answer from this edge's copy of the room, or undefined when only the room can give it. */
  private answerHere(eventId: string, userId: string, now: number): QueueTicket | undefined {
    const p = this.polls.get(eventId, userId);
    const head = this.heads.get(eventId);
    if (!p || !head || !fresh(head, now)) return undefined;
    if (p.admitted) {
      if (Date.parse(p.admitted.admission?.expiresAt ?? '') > now) return answered(p, p.admitted, now);
      this.forget(eventId, userId); // the room says `expired`
      return undefined;
    }
    const w = this.rooms.get(eventId)?.get(userId);
    // Nothing measured: the room may estimate from its fixed rate, which the broadcast does not carry.
    if (w?.poll !== p || w.position === null || head.ratePerSecond <= 0) return undefined;
    // At most the tick being applied behind (a poll just before it would be); a redraw's places come
    // only with the resync it asked for.
    if (w.epoch !== head.epoch || head.seq - w.seq > (head.reset ? 0 : 1)) return undefined;
    return answered(p, waitingAnswer(eventId, p, w.position, head.ratePerSecond), now);
  }

  /**
   * The user's follower, made from the room's answer if there is none. A poll's answer also moves an
   * existing one, unless it already applied newer changes than the answer (see resync).
   */
  private follower(
    eventId: string,
    userId: string,
    place: { rank: number | null; ticket: QueueTicket },
    answer: Positions,
    now: number,
    take: boolean,
  ): Watcher {
    let users = this.rooms.get(eventId);
    if (!users) {
      // The first follower's place was just asked: the room's 15 s until a resync start now, so a
      // crowd that has just subscribed is not asked about again, all of it, at the room's next tick.
      this.rooms.set(eventId, (users = new Map<string, Watcher>()));
      this.lastSync.set(eventId, now);
    }
    let w = users.get(userId);
    if (!w) {
      w = {
        rank: place.rank,
        position: place.ticket.position,
        epoch: answer.epoch,
        seq: answer.seq,
        sent: { position: place.ticket.position, at: now },
        clients: new Set(),
        poll: null,
      };
      users.set(userId, w);
    } else if (take && (w.epoch !== answer.epoch || answer.seq >= w.seq)) {
      Object.assign(w, { rank: place.rank, position: place.ticket.position, epoch: answer.epoch, seq: answer.seq });
    }
    return w;
  }

  /** The user waits no more (admitted, expired, left): the follower goes, an admission stays for polls. */
  private settle(eventId: string, userId: string, ticket: QueueTicket | null): void {
    const p = this.polls.get(eventId, userId);
    if (p && ticket?.state === 'admitted' && ticket.admission) p.admitted = ticket;
    else this.polls.delete(eventId, userId);
    this.dropUser(eventId, userId);
  }

  /** Pollers gone quiet, and rooms no longer heard from. */
  private sweep(now: number): void {
    this.polls.sweep(now, (eventId, userId) => {
      const w = this.rooms.get(eventId)?.get(userId);
      if (!w) return;
      w.poll = null;
      if (w.clients.size === 0) this.dropUser(eventId, userId);
    });
    for (const [eventId, head] of this.heads) if (!fresh(head, now - 60_000)) this.heads.delete(eventId);
  }

  /** The socket closed or signed out. */
  drop(client: LiveClient): void {
    const rooms = this.following.get(client);
    if (!rooms) return;
    this.following.delete(client);
    for (const [eventId, userId] of rooms) {
      const users = this.rooms.get(eventId);
      const w = users?.get(userId);
      if (!users || !w) continue;
      if (w.clients.delete(client) && w.clients.size === 0 && w.poll === null) users.delete(userId);
      if (users.size === 0) this.forgetRoom(eventId);
    }
  }

  private dropUser(eventId: string, userId: string): void {
    const users = this.rooms.get(eventId);
    users?.delete(userId);
    if (users?.size === 0) this.forgetRoom(eventId);
  }

  private forgetRoom(eventId: string): void {
    this.rooms.delete(eventId);
    this.lastSync.delete(eventId);
  }

  private ask(eventId: string, userIds: string[], requestId: string): Promise<Outcome<Positions>> {
    return this.broker.call(waitroom.positions, { eventId, userIds }, { requestId });
  }

  /**
   * One user's place, asked together with every other subscribe or poll of the room waiting to be asked
   * (up to CHUNK): a crowd opening 5,000 sockets at once otherwise put 5,000 requests, each a query, on
   * the room's one actor thread, and polls queued behind them past the broker's timeout (504). At most
   * ASKS_IN_FLIGHT of these requests per room are out at once; those who come meanwhile wait for the
   * next one and go together. Nothing waits on purpose: an idle room is asked in the same loop turn,
   * while the 15,000 pollers coming back after the draw became ~1,300 requests a sale instead of
   * ~2,500, each a Postgres query on the cores the sale books on. The request carries the first one's request id.
   */
  private askWithOthers(eventId: string, userId: string, requestId: string): Promise<Asked> {
    return new Promise((resolve) => {
      let batch = this.asking.get(eventId);
      if (!batch) {
        const fresh: AskBatch = { requestId, userIds: new Set(), waiters: [] };
        this.asking.set(eventId, fresh);
        setImmediate(() => this.sendAsks(eventId));
        batch = fresh;
      }
      batch.userIds.add(userId);
      batch.waiters.push({ userId, resolve });
      if (batch.userIds.size >= CHUNK) {
        this.asking.delete(eventId);
        const full = this.fullAsks.get(eventId) ?? [];
        full.push(batch);
        this.fullAsks.set(eventId, full);
        this.sendAsks(eventId);
      }
    });
  }

  /** Sends the room's waiting batches, full ones first, while fewer than ASKS_IN_FLIGHT are out. */
  private sendAsks(eventId: string): void {
    for (;;) {
      const out = this.asksOut.get(eventId) ?? 0;
      if (out >= ASKS_IN_FLIGHT) return;
      const full = this.fullAsks.get(eventId);
      const batch = full?.shift() ?? this.asking.get(eventId);
      if (full?.length === 0) this.fullAsks.delete(eventId);
      if (!batch) return;
      if (this.asking.get(eventId) === batch) this.asking.delete(eventId);
      this.asksOut.set(eventId, out + 1);
      const answer = (outcome: Outcome<Positions>) => {
        const items = new Map(outcome.ok ? outcome.value.items.map((i) => [i.userId, i]) : []);
        for (const w of batch.waiters) w.resolve({ outcome, item: items.get(w.userId) });
      };
      this.ask(eventId, [...batch.userIds], batch.requestId)
        .then(answer, (err: unknown) => {
          this.log.warn({ err, eventId }, 'queue places not asked');
          answer({ ok: false, code: 'UNAVAILABLE', detail: 'the waiting room could not be asked; retry shortly' });
        })
        .finally(() => {
          const left = (this.asksOut.get(eventId) ?? 1) - 1;
          if (left > 0) this.asksOut.set(eventId, left);
          else this.asksOut.delete(eventId);
          this.sendAsks(eventId);
        });
    }
  }

  private sendTicket(client: LiveClient, t: QueueTicket, changedAt: number): void {
    const frame =
      t.state === 'admitted' && t.admission
        ? encode({
            type: 'admitted',
            eventId: t.eventId,
            token: t.admission.token,
            expiresAt: t.admission.expiresAt,
            changedAt,
          })
        : encode({
            type: 'queue',
            eventId: t.eventId,
            position: t.position,
            estimatedWaitSeconds: t.estimatedWaitSeconds,
            changedAt,
          });
    this.hub.deliver(client, frame, false);
  }

  private toUser(w: Watcher, frame: Buffer): void {
    for (const client of w.clients) this.hub.deliver(client, frame, false);
  }

  /** Resolves once every change of the room received so far has been applied. */
  settled(eventId: string): Promise<void> {
    return this.applying.get(eventId) ?? Promise.resolve();
  }

  /** Changes are applied one after another per room; a change spans several loop turns (slices). */
  private onChange(change: QueueChange): void {
    const before = this.applying.get(change.eventId) ?? Promise.resolve();
    const applied = before
      .then(() => this.apply(change))
      .catch((err: unknown) => this.log.warn({ err, eventId: change.eventId }, 'waiting-room change not applied'));
    this.applying.set(change.eventId, applied);
    void applied.then(() => {
      if (this.applying.get(change.eventId) === applied) this.applying.delete(change.eventId);
    });
  }

  private async apply(change: QueueChange): Promise<void> {
    const { epoch, seq, reset, ratePerSecond, spreadMs } = change;
    this.heads.set(change.eventId, { epoch, seq, reset, ratePerSecond, spreadMs, at: Date.now() });
    const users = this.rooms.get(change.eventId);
    if (!users) return;
    // The tick admitted its people at once; told at once, their bookings arrive as one burst and the
    // last of them wait behind the first. Told evenly over the tick, in their order, they book as a flow.
    const gap = change.admitted.length > 1 ? change.spreadMs / change.admitted.length : 0;
    change.admitted.forEach((a, k) => {
      const w = users.get(a.userId);
      if (!w) return;
      this.dropUser(change.eventId, a.userId);
      // Its polls are answered `admitted` from here on, until the admission expires.
      if (w.poll) w.poll.admitted = admittedTicket(change.eventId, w.poll, a);
      if (w.clients.size === 0) return;
      const frame = encode({
        type: 'admitted',
        eventId: change.eventId,
        token: a.token,
        expiresAt: a.expiresAt,
        changedAt: change.at,
      });
      // Only to sockets still signed in as that user when its turn comes.
      this.later(Math.round(k * gap), () => {
        for (const client of w.clients) if (client.userId === a.userId) this.hub.deliver(client, frame, false);
      });
    });
    let stale = change.reset || Date.now() - (this.lastSync.get(change.eventId) ?? 0) > RESYNC_MS;
    const watchers = [...users];
    let now = Date.now();
    for (let i = 0; i < watchers.length; i++) {
      if (i > 0 && i % SLICE === 0) {
        await nextTurn();
        now = Date.now();
      }
      const [userId, w] = watchers[i]!;
      if (w.clients.size === 0 && w.poll === null) continue; // gone meanwhile
      if (w.epoch !== change.epoch || change.seq !== w.seq + 1) {
        // Already in the place the user was given, or a series we cannot follow: ask again. Only for
        // sockets: a poller's next poll asks the room itself while its follower is behind (answerHere).
        if (w.clients.size > 0 && (w.epoch !== change.epoch || change.seq > w.seq)) stale = true;
        continue;
      }
      // A redraw or rebuild moved every rank: the places come with the resync it asks for, and the
      // follower stays at the seq before it, so the answer is taken (see resync).
      if (change.reset) continue;
      w.seq = change.seq;
      if (w.rank === null || w.position === null || change.removed.length === 0) continue;
      const moved = removedAhead(change.removed, w.rank);
      // Its own rank left the line, not admitted: it left (maybe through another edge); the room knows.
      if (w.poll && change.removed[moved] === w.rank) {
        this.forget(change.eventId, userId);
        if (w.clients.size === 0) continue;
      }
      if (moved === 0) continue;
      w.position = Math.max(1, w.position - moved);
      if (w.clients.size === 0 || !frameDue(w.sent, w.position, now)) continue;
      w.sent = { position: w.position, at: now };
      this.toUser(
        w,
        encode({
          type: 'queue',
          eventId: change.eventId,
          position: w.position,
          estimatedWaitSeconds: estimateSeconds(w.position, change.ratePerSecond),
          changedAt: change.at,
        }),
      );
    }
    if (stale && this.rooms.has(change.eventId)) this.requestResync(change.eventId, change.at);
  }

  private requestResync(eventId: string, changedAt: number): void {
    if (this.resyncing.has(eventId)) {
      this.resyncing.set(eventId, this.resyncing.get(eventId) ?? changedAt);
      return;
    }
    this.resyncing.set(eventId, null);
    this.resync(eventId, changedAt)
      .catch((err: unknown) => this.log.warn({ err, eventId }, 'queue resync failed'))
      .finally(() => {
        const again = this.resyncing.get(eventId);
        this.resyncing.delete(eventId);
        if (again !== null && again !== undefined && this.rooms.has(eventId)) this.requestResync(eventId, again);
      });
  }

  /** Every local user of the room asked again, in chunks asked at once; a moved place gets a frame. */
  private async resync(eventId: string, changedAt: number): Promise<void> {
    this.lastSync.set(eventId, Date.now());
    // The users with a socket: a poller behind is asked about at its next poll, one ask of the room per
    // poller instead of asking for 15,000 of them every 15 s and at every gap, whether they poll or not.
    const userIds = [...(this.rooms.get(eventId) ?? [])].filter(([, w]) => w.clients.size > 0).map(([id]) => id);
    const chunks = Array.from({ length: Math.ceil(userIds.length / CHUNK) }, (_, i) =>
      userIds.slice(i * CHUNK, (i + 1) * CHUNK),
    );
    await Promise.all(
      chunks.map(async (chunk) => {
        const outcome = await this.ask(eventId, chunk, `queue-resync-${eventId}`);
        if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.detail}`);
        const answer = outcome.value;
        for (const [i, item] of answer.items.entries()) {
          if (i > 0 && i % SLICE === 0) await nextTurn();
          const w = this.rooms.get(eventId)?.get(item.userId);
          if (!w) continue;
          // The follower already applied changes newer than this answer: its place is the newer one.
          // Taking the answer put it back to an older seq (a frame moving it back), and the next change
          // looked like a gap that asked for everyone again, so a resync that outlasted a tick could
          // start the next, and the next.
          if (item.ticket?.state === 'waiting' && w.epoch === answer.epoch && answer.seq < w.seq) continue;
          w.epoch = answer.epoch;
          w.seq = answer.seq;
          w.rank = item.rank;
          if (!item.ticket || item.ticket.state !== 'waiting') {
            if (item.ticket) for (const c of w.clients) this.sendTicket(c, item.ticket, changedAt);
            this.settle(eventId, item.userId, item.ticket);
            continue;
          }
          w.position = item.ticket.position;
          const now = Date.now();
          if (w.position !== null && frameDue(w.sent, w.position, now)) {
            w.sent = { position: w.position, at: now };
            for (const c of w.clients) this.sendTicket(c, item.ticket, changedAt);
          }
        }
      }),
    );
  }
}
