// The one HTTP client of a webhook thread: undici agents with pooled
// keep-alive connections per origin. Each attempt has one deadline covering
// connect, headers and the first KiB of the body; redirects are not followed
// (a 3xx is a failed attempt); at most 1 KiB of the answer is kept.
// Hosts an operator allowed skip the address guard; every other request
// goes through the guarded agent, whose DNS lookup refuses non-public
// addresses at connect time.
import { Agent, request, type Dispatcher } from 'undici';
import { AddressRefused, guardedLookup, isAllowedHost, literalProblem } from './address-guard.js';

const KEEP = 1024;

export interface Answer {
  status: number;
  /** At most the first KiB of the body, as text. */
  body: string;
}

export class WebhookClient {
  private readonly guarded: Agent;
  private readonly trusted: Agent;

  constructor(
    private readonly timeoutMs: number,
    private readonly allowHosts: readonly string[],
  ) {
    const options = { keepAliveTimeout: 4_000, connections: 16 };
    this.guarded = new Agent({ ...options, connect: { lookup: guardedLookup, timeout: timeoutMs } });
    this.trusted = new Agent({ ...options, connect: { timeout: timeoutMs } });
  }

  /** POSTs one delivery. Throws on refusal, network error or timeout; any status is an answer. */
  async post(rawUrl: string, headers: Record<string, string>, body: string): Promise<Answer> {
    const url = new URL(rawUrl);
    let dispatcher: Dispatcher = this.guarded;
    if (isAllowedHost(url, this.allowHosts)) dispatcher = this.trusted;
    else {
      const problem = literalProblem(url);
      if (problem) throw new AddressRefused(problem);
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    const res = await request(url, {
      method: 'POST',
      dispatcher,
      signal,
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Evently-Webhooks/1', ...headers },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= KEEP) break;
      }
    } finally {
      // Whatever is left unread is not ours to wait for.
      if (!res.body.destroyed) res.body.destroy();
    }
    return { status: res.statusCode, body: Buffer.concat(chunks).subarray(0, KEEP).toString('utf8') };
  }

  async close(): Promise<void> {
    await Promise.all([this.guarded.close(), this.trusted.close()]);
  }
}
