// The edge's view of each signed-in user's account (status, role, token
// version), so a token dies with its user: a deleted or disabled user, or one
// whose role changed, is refused at once instead of at the token's expiry.
// Each state is kept a few seconds (EVENTLY_TOKEN_CHECK_TTL_MS), refreshed in
// the background after that, and dropped the moment identity broadcasts a
// change; a sign-in seeds it. So a request costs a map lookup. The users not
// cached are asked for together, once per turn of the event loop: when a
// sale opens, thousands of people the edge has not seen arrive in the same
// second, and one identity request per person would double the broker's work.
// Users with a live session (a signed-in socket) have their states refreshed
// before they pass the hard limit, in batches, so their next request after a
// long quiet (a booking the moment a waiting room admits them) does not wait
// on the identity thread either.
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import {
  ACCOUNT_CHANGED_SUBJECT,
  identity,
  refuse,
  type AccountChanged,
  type AccountState,
  type Role,
} from '../../protocol/index.js';
import type { Broker } from '../broker.js';

/** Past TTL × this, a cached state is not used even while a fresh one is on its way. */
const STALE_FACTOR = 10;
/** Users per identity request (the schema's bound). */
const BATCH = 500;
/** Lookups (of up to BATCH users each chunk) out at once; see flush(). */
const FLUSHES_IN_FLIGHT = 2;

/** null: no such user; undefined: identity could not be asked. */
export type Lookup = AccountState | null | undefined;

/** `exp` in seconds since the epoch, as the JWT carries it. */
export interface TokenClaims {
  sub: string;
  role: Role;
  ver?: number;
  exp?: number;
}

/** Why a verified token no longer speaks for its user, or undefined when it still does. */
export function revoked(claims: TokenClaims, state: AccountState | null): string | undefined {
  if (!state) return "the token's user no longer exists";
  if (state.status !== 'active') return "the token's user is disabled";
  if (state.role !== claims.role) return "the user's role has changed; sign in again";
  if (state.tokenVersion !== (claims.ver ?? 0)) return 'the token was revoked; sign in again';
  return undefined;
}

export class AccountStates {
  private readonly cache = new Map<string, { state: AccountState | null; at: number }>();
  private readonly pending = new Map<string, Promise<Lookup>>();
  /** Users to ask identity about at the end of this turn, with who waits for each. */
  private queued = new Map<string, (state: Lookup) => void>();
  private queuedRequestId = '';
  /** Identity requests of flush() not yet answered. */
  private flushesOut = 0;
  private readonly listeners: ((userId: string) => void)[] = [];
  /** Bumped by every change broadcast: a lookup that began before one is used once, not cached. */
  private epoch = 0;
  private sub?: Subscription;
  private freshener: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Keeps the states of `users()` (those with a live session) younger than
   * the hard limit: every quarter of it, those past half of it are asked
   * about again, together. A user with a socket then never waits for
   * identity on their next request, however long they only listened.
   */
  keepFresh(users: () => Iterable<string>): void {
    if (this.ttlMs <= 0) return;
    clearInterval(this.freshener);
    this.freshener = setInterval(() => this.refreshAging(users()), (this.ttlMs * STALE_FACTOR) / 4);
    this.freshener.unref();
  }

  /** Asks again about each of `userIds` whose state is past half the hard limit, or not cached. */
  refreshAging(userIds: Iterable<string>): void {
    const now = this.now();
    const aging = (this.ttlMs * STALE_FACTOR) / 2;
    const requestId = `keep-fresh-${randomUUID()}`;
    for (const userId of userIds) {
      const hit = this.cache.get(userId);
      if (!hit || now - hit.at >= aging) void this.lookup(userId, requestId);
    }
  }

  listen(nc: NatsConnection): void {
    this.sub = nc.subscribe(ACCOUNT_CHANGED_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const { userId } = msg.json<AccountChanged>();
          this.forget(userId);
        } catch {
          // Not ours to crash over; the TTL bounds how long a stale state lives.
        }
      },
    });
  }

  /** Told the id of each user whose account changed (the WebSocket hub signs them out). */
  onChange(listener: (userId: string) => void): void {
    this.listeners.push(listener);
  }

  forget(userId: string): void {
    this.epoch += 1;
    this.cache.delete(userId);
    for (const l of this.listeners) l(userId);
  }

  /** What a sign-in just told: the user's state as identity answered it, so their first requests need no lookup. */
  seed(state: AccountState): void {
    this.store(state.userId, state);
  }

  /**
   * The user's state. A state older than the TTL is still used while a fresh
   * one is fetched in the background: the booking path never waits on the
   * identity thread (it runs at low priority, and starves while a sale is on).
   * A change made through identity is broadcast and applies at once anyway;
   * a state older than the hard limit is not used at all.
   */
  async current(userId: string, requestId: string): Promise<Lookup> {
    const hit = this.cache.get(userId);
    const age = hit ? this.now() - hit.at : Number.POSITIVE_INFINITY;
    if (hit && age < this.ttlMs) return hit.state;
    const lookup = this.lookup(userId, requestId);
    if (hit && age < this.ttlMs * STALE_FACTOR) return hit.state;
    return lookup;
  }

  private lookup(userId: string, requestId: string): Promise<Lookup> {
    let pending = this.pending.get(userId);
    if (!pending) {
      pending = this.fetch(userId, requestId).finally(() => this.pending.delete(userId));
      this.pending.set(userId, pending);
    }
    return pending;
  }

  private store(userId: string, state: AccountState | null): void {
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.delete(userId);
    this.cache.set(userId, { state, at: this.now() });
  }

  private async fetch(userId: string, requestId: string): Promise<Lookup> {
    const epoch = this.epoch;
    const state = await new Promise<Lookup>((resolve) => {
      if (this.queued.size === 0) {
        this.queuedRequestId = requestId;
        setImmediate(() => this.flush());
      }
      this.queued.set(userId, resolve);
    });
    if (state !== undefined && epoch === this.epoch) this.store(userId, state);
    return state;
  }

  /**
   * Asks identity about every queued user; the batch carries the first asker's request id. While
   * FLUSHES_IN_FLIGHT are out, those who come meanwhile wait for one to come back and go together:
   * nothing waits on purpose, and a crowd polling after a draw sends fewer identity requests,
   * each a query on the cores the sale books on, when identity is slower than the polls come.
   */
  private flush(): void {
    if (this.queued.size === 0 || this.flushesOut >= FLUSHES_IN_FLIGHT) return;
    const queued = this.queued;
    const requestId = this.queuedRequestId;
    this.queued = new Map();
    const userIds = [...queued.keys()];
    this.flushesOut += 1;
    void Promise.all(
      Array.from({ length: Math.ceil(userIds.length / BATCH) }, async (_, i) => {
        const chunk = userIds.slice(i * BATCH, (i + 1) * BATCH);
        const outcome = await this.broker
          .call(identity.states, { userIds: chunk }, { requestId })
          .catch(() => refuse('UNAVAILABLE', 'identity could not be asked'));
        const found = new Map(outcome.ok ? outcome.value.items.map((s) => [s.userId, s]) : []);
        for (const userId of chunk) queued.get(userId)?.(outcome.ok ? (found.get(userId) ?? null) : undefined);
      }),
    ).finally(() => {
      this.flushesOut -= 1;
      this.flush();
    });
  }

  close(): void {
    clearInterval(this.freshener);
    this.sub?.unsubscribe();
  }
}
