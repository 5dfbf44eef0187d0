// The one place that reads the environment. Every setting is declared with its
// env name, default and doc; the README configuration table is checked against
// this catalogue by a test. A bad value stops start-up with a clear message.
import { resolve } from 'node:path';

type Parser<T> = (raw: string, name: string) => T;

interface Setting<T> {
  env: string;
  doc: string;
  default: T | undefined;
  parse: Parser<T>;
}

const int = (min: number, max: number): Parser<number> => (raw, name) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
};
const str: Parser<string> = (raw) => raw;
const onOff: Parser<boolean> = (raw, name) => {
  if (['on', 'true', '1'].includes(raw)) return true;
  if (['off', 'false', '0'].includes(raw)) return false;
  throw new ConfigError(`${name} must be on or off, got "${raw}"`);
};
const url = (protocols: string[]): Parser<string> => (raw, name) => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw;
};
const mailbox: Parser<string> = (raw, name) => {
  if (!/^[^<>@\s]+@[^<>@\s]+$|<[^<>@\s]+@[^<>@\s]+>$/.test(raw.trim())) {
    throw new ConfigError(`${name} must be an address, as a@b.example or Name <a@b.example>, got "${raw}"`);
  }
  return raw.trim();
};
const list: Parser<string[]> = (raw) => raw.split(',').map((item) => item.trim()).filter(Boolean);
const logLevel: Parser<string> = (raw, name) => {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(raw)) throw new ConfigError(`${name} must be one of ${levels.join(', ')}`);
  return raw;
};

const setting = <T>(env: string, doc: string, dflt: T | undefined, parse: Parser<T>): Setting<T> =>
  ({ env, doc, default: dflt, parse });

export const settings = {
  httpPort: setting('EVENTLY_HTTP_PORT', 'Edge HTTP port', 3000, int(0, 65535)),
  httpHost: setting('EVENTLY_HTTP_HOST', 'Edge listen address', '127.0.0.1', str),
  adminPort: setting('EVENTLY_ADMIN_PORT', 'Supervisor admin endpoint port (0 = any free port)', 3001, int(0, 65535)),
  adminHost: setting('EVENTLY_ADMIN_HOST', 'Supervisor admin endpoint listen address', '127.0.0.1', str),
  leaseTtlMs: setting('EVENTLY_LEASE_TTL_MS', 'How long a shard lease lives without renewal; a dead supervisor\'s shards move after this', 10000, int(500, 300000)),
  dataDir: setting('EVENTLY_DATA_DIR', 'Where the embedded servers keep their data', resolve('.data'), (raw) => resolve(raw)),
  shards: setting('EVENTLY_SHARDS', 'Number of event shards (changing it reshuffles ownership)', 16, int(1, 1024)),
  inventoryThreads: setting('EVENTLY_INVENTORY_THREADS', 'Inventory actor threads', 2, int(1, 64)),
  identityThreads: setting('EVENTLY_IDENTITY_THREADS', 'Identity (accounts) actor threads', 1, int(1, 16)),
  waitlistThreads: setting('EVENTLY_WAITLIST_THREADS', 'Waitlist actor threads (they split the shards)', 1, int(1, 64)),
  holdSeconds: setting('EVENTLY_HOLD_SECONDS', 'How long seats offered to a waitlisted person stay held for them', 600, int(1, 86400)),
  waitlistMaxSkips: setting('EVENTLY_WAITLIST_MAX_SKIPS', 'How often a waitlist entry too large for the released seats may be passed over before seats are saved up for it', 3, int(0, 1000)),
  pricingThreads: setting('EVENTLY_PRICING_THREADS', 'Pricing actor threads (they split the shards)', 1, int(1, 64)),
  pricingIntervalSeconds: setting('EVENTLY_PRICING_INTERVAL_SECONDS', 'Seconds between two dynamic price evaluations, for a policy that names no interval', 60, int(1, 86400)),
  pricingShortWindowSeconds: setting('EVENTLY_PRICING_SHORT_WINDOW_SECONDS', 'Recent window of booking velocity for dynamic pricing (quick to rise)', 300, int(1, 86400)),
  pricingLongWindowSeconds: setting('EVENTLY_PRICING_LONG_WINDOW_SECONDS', 'Longer window of booking velocity for dynamic pricing (slow to fall); at least the short window', 3600, int(1, 604800)),
  pricingSettleMs: setting('EVENTLY_PRICING_SETTLE_MS', 'How long after an interval boundary its evaluation waits for domain events that occurred before it', 2000, int(0, 600000)),
  analyticsThreads: setting('EVENTLY_ANALYTICS_THREADS', 'Analytics actor threads (they split the shards\' domain streams; reads, rebuilds and exports go to any of them)', 1, int(1, 64)),
  analyticsTickMs: setting('EVENTLY_ANALYTICS_TICK_MS', 'How often analytics looks for stalled sales', 30000, int(100, 3600000)),
  outboxPollMs: setting('EVENTLY_OUTBOX_POLL_MS', 'How often a relay looks for domain events a dead process left unpublished', 1000, int(50, 60000)),
  batching: setting('EVENTLY_BATCHING', 'Serve concurrent bookings of one event in one transaction (on/off)', true, onOff),
  batchMax: setting('EVENTLY_BATCH_MAX', 'Most bookings in one batch transaction', 256, int(1, 10000)),
  identityNice: setting('EVENTLY_IDENTITY_NICE', 'Nice value of the identity (password hashing) threads: under load the booking path goes first; 0 = same priority', 10, int(0, 19)),
  stopTimeoutMs: setting('EVENTLY_STOP_TIMEOUT_MS', 'Longest a stop on SIGINT/SIGTERM takes: actors get half to finish in-flight work (the rest resumes at the next start), then the embedded servers stop; past it the process exits and kills them', 9000, int(1000, 600000)),
  lockTtlMs: setting('EVENTLY_LOCK_TTL_MS', 'TTL of the Redis booking lock', 30000, int(100, 600000)),
  lockWaitMs: setting('EVENTLY_LOCK_WAIT_MS', 'How long a booking waits for the same user\'s lock before 409 BOOKING_IN_PROGRESS', 2000, int(0, 60000)),
  brokerTimeoutMs: setting('EVENTLY_BROKER_TIMEOUT_MS', 'Edge → actor request timeout (then 504)', 5000, int(50, 120000)),
  unservedWaitMs: setting('EVENTLY_UNSERVED_WAIT_MS', 'How long a request waits for an actor when none serves its subject (a restart or hand-over gap) before 503; capped by the broker timeout', 3000, int(0, 120000)),
  bodyLimit: setting('EVENTLY_BODY_LIMIT', 'Largest accepted request body in bytes', 16384, int(256, 10485760)),
  jwtSecret: setting('EVENTLY_JWT_SECRET', 'HMAC secret for tokens (embedded default: generated once into the data dir)', undefined, str),
  jwtTtl: setting('EVENTLY_JWT_TTL', 'Token lifetime in seconds', 3600, int(60, 2592000)),
  kdfCost: setting('EVENTLY_KDF_COST', 'scrypt cost exponent (N = 2^cost) for new password hashes', 15, int(10, 20)),
  adminEmail: setting('EVENTLY_ADMIN_EMAIL', 'First admin account, created at start if missing', 'admin@evently.local', str),
  adminPassword: setting('EVENTLY_ADMIN_PASSWORD', 'First admin password (change it outside development)', 'evently-admin', str),
  wsMaxSockets: setting('EVENTLY_WS_MAX_SOCKETS', 'Most WebSocket clients one edge accepts (then 503 on upgrade)', 20000, int(1, 1000000)),
  wsMaxSubscriptions: setting('EVENTLY_WS_MAX_SUBSCRIPTIONS', 'Most events one WebSocket may watch', 100, int(1, 10000)),
  wsMaxMessage: setting('EVENTLY_WS_MAX_MESSAGE', 'Largest client WebSocket message in bytes (larger ones get an error frame)', 8192, int(256, 1048576)),
  wsSoftBuffer: setting('EVENTLY_WS_SOFT_BUFFER', 'Bytes queued to a WebSocket above which availability frames are skipped', 65536, int(1024, 67108864)),
  wsHardBuffer: setting('EVENTLY_WS_HARD_BUFFER', 'Bytes queued to a WebSocket above which it is terminated', 1048576, int(1024, 268435456)),
  wsPingMs: setting('EVENTLY_WS_PING_MS', 'WebSocket ping interval; a client that misses a pong is terminated', 30000, int(100, 600000)),
  presenceIntervalMs: setting('EVENTLY_PRESENCE_INTERVAL_MS', 'How often each edge reports its watchers (an edge unheard for 3 intervals is forgotten)', 1000, int(50, 60000)),
  presenceThrottleMs: setting('EVENTLY_PRESENCE_THROTTLE_MS', 'Least time between two presence reports or two watcher pushes for one event', 250, int(10, 60000)),
  natsUrl: setting('NATS_URL', 'NATS server; unset = start the embedded one', undefined, url(['nats:', 'tls:'])),
  redisUrl: setting('REDIS_URL', 'Redis server; unset = start the embedded one', undefined, url(['redis:', 'rediss:'])),
  databaseUrl: setting('DATABASE_URL', 'PostgreSQL; unset = start the embedded cluster', undefined, url(['postgres:', 'postgresql:'])),
  databaseReadUrl: setting('DATABASE_READ_URL', 'PostgreSQL for analytics reads and exports (a read replica); unset = DATABASE_URL', undefined, url(['postgres:', 'postgresql:'])),
  logLevel: setting('EVENTLY_LOG_LEVEL', 'pino log level', 'info', logLevel),
  jwtPreviousSecret: setting('EVENTLY_JWT_PREVIOUS_SECRET', 'The signing secret before the last rotation, still accepted for verification until its tokens expire', undefined, str),
  rateLimits: setting('EVENTLY_RATE_LIMITS', 'Every rate-limit tier on or off (off for load tests)', true, onOff),
  rateWindowMs: setting('EVENTLY_RATE_WINDOW_MS', 'Window of every rate-limit tier', 60000, int(100, 3600000)),
  rateGlobalMax: setting('EVENTLY_RATE_GLOBAL_MAX', 'Requests per window across every edge and client', 600000, int(1, 1_000_000_000)),
  rateIpMax: setting('EVENTLY_RATE_IP_MAX', 'Requests per window from one client IP', 1200, int(1, 1_000_000_000)),
  rateUserMax: setting('EVENTLY_RATE_USER_MAX', 'Requests per window from one signed-in user', 600, int(1, 1_000_000_000)),
  rateBookingMax: setting('EVENTLY_RATE_BOOKING_MAX', 'Booking requests per window from one user', 60, int(1, 1_000_000_000)),
  rateAuthMax: setting('EVENTLY_RATE_AUTH_MAX', 'Register and login requests per window from one client IP', 30, int(1, 1_000_000_000)),
  loginFailuresMax: setting('EVENTLY_LOGIN_FAILURES_MAX', 'Failed logins of one account after which further attempts wait out the failure window', 5, int(1, 1000)),
  loginFailureWindowMs: setting('EVENTLY_LOGIN_FAILURE_WINDOW_MS', 'How long a failed login counts against its account', 900000, int(100, 86400000)),
  corsOrigins: setting('EVENTLY_CORS_ORIGINS', 'Comma-separated browser origins allowed to call the API; empty = none', [] as string[], list),
  maxEventLoopDelayMs: setting('EVENTLY_MAX_EVENT_LOOP_DELAY_MS', 'The edge answers 503 while its event-loop delay is above this; 0 = never', 1000, int(0, 60000)),
  cacheL1TtlMs: setting('EVENTLY_CACHE_L1_TTL_MS', 'Lifetime of an event in an edge\'s in-process cache', 500, int(0, 60000)),
  cacheL2TtlMs: setting('EVENTLY_CACHE_L2_TTL_MS', 'Lifetime of an event in the shared Redis cache', 500, int(0, 60000)),
  cacheMaxEntries: setting('EVENTLY_CACHE_MAX_ENTRIES', 'Most events in an edge\'s in-process cache', 10000, int(1, 10_000_000)),
  trustedProxies: setting('EVENTLY_TRUSTED_PROXIES', 'Comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed; empty = none', [] as string[], list),
  mongoUrl: setting('MONGO_URL', 'MongoDB for the Agenda scheduler; unset = Agenda keeps its jobs in PostgreSQL (DATABASE_URL)', undefined, url(['mongodb:', 'mongodb+srv:'])),
  schedulerPollMs: setting('EVENTLY_SCHEDULER_POLL_MS', 'How often Agenda looks for due jobs', 5000, int(100, 600000)),
  holdSweepMs: setting('EVENTLY_HOLD_SWEEP_MS', 'How often the scheduler expires holds whose timer was lost', 15000, int(1000, 86400000)),
  lockCleanupMs: setting('EVENTLY_LOCK_CLEANUP_MS', 'How often the scheduler clears orphaned booking and job locks', 60000, int(1000, 86400000)),
  completeEventsMs: setting('EVENTLY_COMPLETE_EVENTS_MS', 'How often the scheduler marks ended events completed', 60000, int(1000, 86400000)),
  retentionCleanupMs: setting('EVENTLY_RETENTION_CLEANUP_MS', 'How often the scheduler deletes bookkeeping rows past their retention', 3600000, int(1000, 86400000)),
  mailerThreads: setting('EVENTLY_MAILER_THREADS', 'Mailer actor threads (they split the shards\' domain events; every one sends)', 1, int(1, 16)),
  publicUrl: setting('EVENTLY_PUBLIC_URL', 'Base URL people reach Evently at; links in mails start with it', 'http://127.0.0.1:3000', url(['http:', 'https:'])),
  mailFrom: setting('MAIL_FROM', 'Sender of every mail', 'Evently <no-reply@evently.local>', mailbox),
  sendgridApiKey: setting('SENDGRID_API_KEY', 'SendGrid API key; set = send through SendGrid first, SMTP is the fallback', undefined, str),
  smtpUrl: setting('SMTP_URL', 'SMTP server (smtp:// or smtps://, credentials in the URL); unset on the embedded default = the local mail sink', undefined, url(['smtp:', 'smtps:'])),
  mailMaxAttempts: setting('EVENTLY_MAIL_MAX_ATTEMPTS', 'Attempts at one mail before it goes to the dead-letter store', 8, int(1, 100)),
  mailRetryBaseMs: setting('EVENTLY_MAIL_RETRY_BASE_MS', 'Wait after a mail\'s first failed attempt; doubled after each further one', 30000, int(10, 3600000)),
} as const;

type Settings = typeof settings;
export type Config = Readonly<{
  [K in keyof Settings]: Settings[K] extends Setting<infer T>
    ? Settings[K]['default'] extends undefined ? T | undefined : T
    : never;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates every setting once; throws ConfigError naming each bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const raw = env[s.env];
    if (raw === undefined || raw === '') {
      out[key] = s.default;
      continue;
    }
    try {
      out[key] = s.parse(raw, s.env);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze(out) as Config;
}

/** Overrides for tests and the embedded stack, validated by the same parsers. */
export function withOverrides(base: Config, overrides: Partial<Record<keyof Config, unknown>>): Config {
  return Object.freeze({ ...base, ...overrides }) as Config;
}
