// The edge's view of each signed-in user's account (status, role, token
// version), so a token dies with its user: a deleted or disabled user, or one
// whose role changed, is refused at once instead of at the token's expiry.
// Each state is kept a few seconds (EVENTLY_TOKEN_CHECK_TTL_MS), refreshed in
// the background after that, and dropped the moment identity broadcasts a
// change; a sign-in seeds it. So a request costs a map lookup.
import type { NatsConnection, Subscription } from 'nats';
import { ACCOUNT_CHANGED_SUBJECT, identity, type AccountChanged, type AccountState, type Role } from '../../protocol/index.js';
import type { Broker } from '../broker.js';

/** Past TTL × this, a cached state is not used even while a fresh one is on its way. */
const STALE_FACTOR = 10;

/** null: no such user; undefined: identity could not be asked. */
export type Lookup = AccountState | null | undefined;

/** `exp` in seconds since the epoch, as the JWT carries it. */
export interface TokenClaims { sub: string; role: Role; ver?: number; exp?: number }

/** Why a verified token no longer speaks for its user, or undefined when it still does. */
export function revoked(claims: TokenClaims, state: AccountState | null): string | undefined {
  if (!state) return 'the token\'s user no longer exists';
  if (state.status !== 'active') return 'the token\'s user is disabled';
  if (state.role !== claims.role) return 'the user\'s role has changed; sign in again';
  if (state.tokenVersion !== (claims.ver ?? 0)) return 'the token was revoked; sign in again';
  return undefined;
}

export class AccountStates {
  private readonly cache = new Map<string, { state: AccountState | null; at: number }>();
  private readonly pending = new Map<string, Promise<Lookup>>();
  private readonly listeners: ((userId: string) => void)[] = [];
  /** Bumped by every change broadcast: a lookup that began before one is used once, not cached. */
  private epoch = 0;
  private sub?: Subscription;

  constructor(private readonly broker: Broker, private readonly ttlMs: number, private readonly maxEntries = 100_000) {}

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
    const age = hit ? performance.now() - hit.at : Number.POSITIVE_INFINITY;
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
    this.cache.set(userId, { state, at: performance.now() });
  }

  private async fetch(userId: string, requestId: string): Promise<Lookup> {
    const epoch = this.epoch;
    const outcome = await this.broker.call(identity.state, { userId }, { requestId });
    const state = outcome.ok ? outcome.value : outcome.code === 'NOT_FOUND' ? null : undefined;
    if (state !== undefined && epoch === this.epoch) this.store(userId, state);
    return state;
  }

  close(): void {
    this.sub?.unsubscribe();
  }
}
