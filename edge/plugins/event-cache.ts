// Event reads through two caches: L1 in this process (lru-cache, bounded,
// short TTL) and L2 in Redis (shared by every edge, short TTL), then the
// inventory actor. A domain event about an event drops it from both, so a
// change is usually seen at once; the TTLs alone bound how old a read can
// be even when no domain event arrives (a lost message, a publisher that is
// not running yet, a fill racing an invalidation): an entry reaches L1 at
// most L2-TTL after the actor read it and lives there at most L1-TTL, so
// `available` is never older than EVENTLY_CACHE_L1_TTL_MS +
// EVENTLY_CACHE_L2_TTL_MS (1 s by default).
//
// Entries hold the serialized body and its ETag, so a hit costs neither
// serialization nor hashing; concurrent misses of one event share one load.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Counter } from 'prom-client';
import { ok, type Event, type Outcome } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import type { DomainFeed } from './domain-feed.js';

export interface CachedEvent {
  readonly body: string;
  readonly etag: string;
  readonly version: number;
}

export interface EventCacheOptions {
  l1TtlMs: number;
  l2TtlMs: number;
  maxEntries: number;
}

/** Hit ratio of tier t = hit / (hit + miss) of that tier. */
const lookups = new Counter({
  name: 'evently_edge_event_cache_lookups_total',
  help: 'Event reads by cache tier (l1 = in-process, l2 = Redis) and result (hit, miss)',
  labelNames: ['tier', 'result'] as const,
});
const invalidations = new Counter({
  name: 'evently_edge_event_cache_invalidations_total',
  help: 'Domain events that dropped an event from the caches',
});

const L2_PREFIX = 'evently:cache:event:';

function entryOf(event: Event): CachedEvent {
  const body = JSON.stringify(event);
  return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"`, version: event.version };
}

// L2 holds "<version> <etag> <body>": one GET, no JSON parse on a hit.
const encode = (e: CachedEvent) => `${e.version} ${e.etag} ${e.body}`;
function decode(raw: string): CachedEvent {
  const first = raw.indexOf(' ');
  const second = raw.indexOf(' ', first + 1);
  return { version: Number(raw.slice(0, first)), etag: raw.slice(first + 1, second), body: raw.slice(second + 1) };
}

export class EventCache {
  private readonly l1: LRUCache<string, CachedEvent> | undefined;
  private readonly loading = new Map<string, Promise<Outcome<CachedEvent>>>();
  /** The newest version invalidated per event, bounded like L1. */
  private readonly invalidated = new LRUCache<string, number>({ max: 10_000 });

  constructor(
    private readonly redis: Redis,
    private readonly options: EventCacheOptions,
    private readonly log: Logger,
  ) {
    this.l1 = options.l1TtlMs > 0 ? new LRUCache({ max: options.maxEntries, ttl: options.l1TtlMs }) : undefined;
  }

  async get(eventId: string, load: () => Promise<Outcome<Event>>): Promise<Outcome<CachedEvent>> {
    if (this.l1) {
      const hit = this.l1.get(eventId);
      lookups.inc({ tier: 'l1', result: hit ? 'hit' : 'miss' });
      if (hit) return ok(hit);
    }
    if (!this.l1 && this.options.l2TtlMs === 0) {
      // Both tiers off: straight to the actor, as if there were no cache at all.
      const outcome = await load();
      return outcome.ok ? ok(entryOf(outcome.value)) : outcome;
    }
    let pending = this.loading.get(eventId);
    if (!pending) {
      const filling = this.fill(eventId, load).finally(() => {
        // An invalidation may have let a newer fill take this one's place.
        if (this.loading.get(eventId) === filling) this.loading.delete(eventId);
      });
      this.loading.set(eventId, (pending = filling));
    }
    return pending;
  }

  private async fill(eventId: string, load: () => Promise<Outcome<Event>>): Promise<Outcome<CachedEvent>> {
    if (this.options.l2TtlMs > 0) {
      const raw = await this.redis.get(L2_PREFIX + eventId).catch((err: unknown) => {
        this.log.warn({ err }, 'event cache: Redis read failed; reading through');
        return null;
      });
      lookups.inc({ tier: 'l2', result: raw ? 'hit' : 'miss' });
      if (raw) {
        const entry = decode(raw);
        this.l1?.set(eventId, entry);
        return ok(entry);
      }
    }
    const outcome = await load();
    if (!outcome.ok) return outcome;
    const entry = entryOf(outcome.value);
    this.l1?.set(eventId, entry);
    if (this.options.l2TtlMs > 0) {
      this.redis
        .set(L2_PREFIX + eventId, encode(entry), 'PX', this.options.l2TtlMs)
        .catch((err: unknown) => this.log.warn({ err }, 'event cache: Redis write failed'));
    }
    return ok(entry);
  }

  /** Drops what is older than `version` here, and the shared copy in Redis. */
  invalidate(eventId: string, version: number): void {
    const cached = this.l1?.peek(eventId);
    if (cached && cached.version < version) this.l1?.delete(eventId);
    this.loading.delete(eventId);
    invalidations.inc();
    if (this.options.l2TtlMs > 0) {
      this.redis
        .del(L2_PREFIX + eventId)
        .catch((err: unknown) => this.log.warn({ err }, 'event cache: Redis delete failed'));
    }
  }

  /**
   * Follows the edge's domain feed (core NATS: a missed event only waits out
   * the TTL). A batch of bookings shares one version, so it costs one
   * invalidation, not one per booking.
   */
  listen(feed: DomainFeed): void {
    feed.on((event) => {
      if ((this.invalidated.get(event.eventId) ?? 0) >= event.version) return;
      this.invalidated.set(event.eventId, event.version);
      this.invalidate(event.eventId, event.version);
    });
  }

  close(): void {
    this.invalidated.clear();
  }
}
