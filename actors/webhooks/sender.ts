// Sends what is due, a chain at a time. Every webhook thread runs one: it
// wakes when its consumer planned deliveries, when one of its chains ends and
// once a second besides (retries come due, other threads plan), and keeps up
// to `maxChains` chains in flight, each an independent task, so a slow or
// dead endpoint holds only its own chains, never another endpoint's.
// A chain stops at its first failure (the rest wait behind it, in order),
// when its lease is about to run out, or when the thread stops; what it did
// not get to is released at once. A sender that dies mid-chain leaves the
// lease to run out: those deliveries go again, under the same webhook-id.
import type { Pool } from 'pg';
import type { Logger } from '../../platform/logger.js';
import {
  claimChains,
  disableEndpoint,
  release,
  settle,
  type Chain,
  type ClaimedDelivery,
  type Settled,
} from './chains.js';
import { AddressRefused } from './address-guard.js';
import type { WebhookClient } from './http-client.js';
import { webhookAttempts, webhookAttemptSeconds, webhookEndpointsDisabled } from './metrics.js';
import { nextRetryMs, type RetryPolicy } from './retry-policy.js';
import { webhookHeaders } from './signature.js';

export interface SenderOptions {
  retry: RetryPolicy;
  timeoutMs: number;
  perEndpoint: number;
}

const POLL_MS = 1_000;
/** Chains in flight per thread, across endpoints. */
const MAX_CHAINS = 32;
/** Deliveries leased with one claim; sent one after another. */
const CHAIN_LENGTH = 250;
/**
 * Least time between two claims the consumer asks for. During a flash sale it
 * plans many batches a second while the hot event's chain is already in
 * flight; a claim per batch would scan the open deliveries for nothing.
 */
const NUDGE_MS = 200;
/** Settled attempts written together; a crash re-sends at most this many of a chain. */
const SETTLE_EVERY = 20;

export class Sender {
  private readonly timer: NodeJS.Timeout;
  private readonly chains = new Set<Promise<void>>();
  private claiming: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private lastNudge = 0;
  private trailing: NodeJS.Timeout | null = null;
  private readonly leaseMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly client: WebhookClient,
    private readonly options: SenderOptions,
    private readonly log: Logger,
  ) {
    // Long enough for a few timed-out attempts; a chain stops sending well before its lease ends.
    this.leaseMs = 3 * options.timeoutMs + 5_000;
    this.timer = setInterval(() => this.kick(), POLL_MS);
  }

  /** New deliveries were planned: claim now, or once at the end of the current NUDGE_MS window. */
  nudge(): void {
    const wait = this.lastNudge + NUDGE_MS - Date.now();
    if (wait <= 0) {
      this.lastNudge = Date.now();
      this.kick();
      return;
    }
    this.trailing ??= setTimeout(() => {
      this.trailing = null;
      this.lastNudge = Date.now();
      this.kick();
    }, wait);
  }

  /** Looks for due chains now (or right after the claim in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claim()
      .catch((err: unknown) => this.log.warn({ err }, 'webhook claim failed; the next one retries'))
      .finally(() => {
        this.claiming = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async claim(): Promise<void> {
    while (!this.stopped && this.chains.size < MAX_CHAINS) {
      const claimedAt = Date.now();
      const chains = await claimChains(this.pool, {
        chains: MAX_CHAINS - this.chains.size,
        length: CHAIN_LENGTH,
        perEndpoint: this.options.perEndpoint,
        leaseMs: this.leaseMs,
      });
      if (chains.length === 0) return;
      for (const chain of chains) {
        const task: Promise<void> = this.send(chain, claimedAt + this.leaseMs)
          .catch((err: unknown) =>
            this.log.warn(
              { err, endpoint: chain.endpoint.id },
              'webhook chain failed; its lease runs out and it goes again',
            ),
          )
          .finally(() => {
            this.chains.delete(task);
            this.kick();
          });
        this.chains.add(task);
      }
    }
  }

  private async send(chain: Chain, leaseEndsAt: number): Promise<void> {
    const settled: Settled[] = [];
    let next = 0;
    try {
      for (let d = chain.deliveries[next]; d !== undefined; d = chain.deliveries[++next]) {
        const late = Date.now() + this.options.timeoutMs + 1_000 > leaseEndsAt;
        if (this.stopped || late || d.next_attempt_at.getTime() > Date.now()) break;
        const outcome = await this.attempt(chain, d);
        settled.push(outcome);
        if (settled.length >= SETTLE_EVERY) await settle(this.pool, settled.splice(0));
        if (!outcome.delivered) {
          next++;
          await this.afterFailure(chain, outcome);
          break;
        }
      }
    } finally {
      await settle(this.pool, settled);
      await release(
        this.pool,
        chain.deliveries.slice(next).map((d) => d.id),
      );
    }
  }

  private async attempt(chain: Chain, d: ClaimedDelivery): Promise<Settled> {
    const firstAttemptAt = (d.first_attempt_at ?? new Date()).toISOString();
    const body = JSON.stringify(d.payload);
    const headers = webhookHeaders(chain.endpoint.secrets, d.id, Math.floor(Date.now() / 1000), body);
    const started = process.hrtime.bigint();
    let failure: { code: number | null; error: string; response: string | null };
    try {
      const answer = await this.client.post(chain.endpoint.url, headers, body);
      if (answer.status >= 200 && answer.status < 300) {
        webhookAttempts.inc({ outcome: 'delivered' });
        return { id: d.id, delivered: true, code: answer.status, response: answer.body, firstAttemptAt };
      }
      failure = { code: answer.status, error: `receiver answered ${answer.status}`, response: answer.body };
    } catch (err) {
      const e = err as Error;
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      failure = {
        code: null,
        error: timedOut ? `no answer within ${this.options.timeoutMs} ms` : `${e.name}: ${e.message}`,
        response: null,
      };
      if (err instanceof AddressRefused) webhookAttempts.inc({ outcome: 'refused' });
    } finally {
      webhookAttemptSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    const retryInMs = nextRetryMs(this.options.retry, d.attempts + 1, new Date(firstAttemptAt));
    webhookAttempts.inc({ outcome: retryInMs === null ? 'dead' : 'retry' });
    this.log.warn(
      {
        delivery: d.id,
        endpoint: chain.endpoint.id,
        attempt: d.attempts + 1,
        code: failure.code,
        error: failure.error,
        retryInMs,
      },
      retryInMs === null
        ? 'webhook delivery dead: failing past the retry schedule'
        : 'webhook delivery failed; will retry',
    );
    return { id: d.id, delivered: false, ...failure, retryInMs, firstAttemptAt };
  }

  private async afterFailure(chain: Chain, outcome: Settled & { delivered: false }): Promise<void> {
    const reason = outcome.code === 410 ? 'gone' : outcome.retryInMs === null ? 'failing' : undefined;
    if (!reason) return;
    const detail = reason === 'gone' ? 'the receiver answered 410 Gone' : 'a delivery failed past the retry schedule';
    if (await disableEndpoint(this.pool, chain.endpoint.id, detail)) {
      webhookEndpointsDisabled.inc({ reason });
      this.log.error({ endpoint: chain.endpoint.id, reason }, `webhook endpoint disabled: ${detail}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.trailing) clearTimeout(this.trailing);
    await this.claiming;
    await Promise.all([...this.chains]);
  }
}
