// The one place that reads the environment. Every setting is declared with its
// env name, default and doc; the tables of docs/configuration.md are checked against
// this catalogue by a test. A bad value stops start-up with a clear message.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

type Parser<T> = (raw: string, name: string) => T;

interface Setting<T> {
  env: string;
  doc: string;
  default: T | undefined;
  parse: Parser<T>;
}

const int =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
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
const url =
  (protocols: string[]): Parser<string> =>
  (raw, name) => {
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
const secret =
  (minLength: number): Parser<string> =>
  (raw, name) => {
    if (raw.length < minLength) throw new ConfigError(`${name} must be at least ${minLength} characters`);
    return raw;
  };
const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
/** Background pools that may be left off: their work waits in the durable stream until they run. */
export const OPTIONAL_POOLS = ['mailer', 'analytics', 'pricing'] as const;
const optionalPools: Parser<string[]> = (raw, name) => {
  const pools = list(raw, name);
  const unknown = pools.filter((p) => !(OPTIONAL_POOLS as readonly string[]).includes(p));
  if (unknown.length > 0)
    throw new ConfigError(`${name} may name ${OPTIONAL_POOLS.join(', ')}, got "${unknown.join(', ')}"`);
  return pools;
};
const logLevel: Parser<string> = (raw, name) => {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(raw)) throw new ConfigError(`${name} must be one of ${levels.join(', ')}`);
  return raw;
};

const setting = <T>(env: string, doc: string, dflt: T | undefined, parse: Parser<T>): Setting<T> => ({
  env,
  doc,
  default: dflt,
  parse,
});

export const settings = {
  httpPort: setting('EVENTLY_HTTP_PORT', 'Edge HTTP port', 3000, int(0, 65535)),
  httpHost: setting('EVENTLY_HTTP_HOST', 'Edge listen address', '127.0.0.1', str),
  adminPort: setting('EVENTLY_ADMIN_PORT', 'Supervisor admin endpoint port (0 = any free port)', 3001, int(0, 65535)),
  adminHost: setting('EVENTLY_ADMIN_HOST', 'Supervisor admin endpoint listen address', '127.0.0.1', str),
  leaseTtlMs: setting(
    'EVENTLY_LEASE_TTL_MS',
    "How long a shard lease lives without renewal; a dead supervisor's shards move after this",
    10000,
    int(500, 300000),
  ),
  dataDir: setting('EVENTLY_DATA_DIR', 'Where the embedded servers keep their data', resolve('.data'), (raw) =>
    resolve(raw),
  ),
  shards: setting('EVENTLY_SHARDS', 'Number of event shards (changing it reshuffles ownership)', 16, int(1, 1024)),
  inventoryThreads: setting('EVENTLY_INVENTORY_THREADS', 'Inventory actor threads', 2, int(1, 64)),
  identityThreads: setting('EVENTLY_IDENTITY_THREADS', 'Identity (accounts) actor threads', 1, int(1, 16)),
  waitlistThreads: setting('EVENTLY_WAITLIST_THREADS', 'Waitlist actor threads (they split the shards)', 1, int(1, 64)),
  holdSeconds: setting(
    'EVENTLY_HOLD_SECONDS',
    'How long seats offered to a waitlisted person stay held for them',
    600,
    int(1, 86400),
  ),
  waitlistMaxSkips: setting(
    'EVENTLY_WAITLIST_MAX_SKIPS',
    'How often a waitlist entry too large for the released seats may be passed over before seats are saved up for it',
    3,
    int(0, 1000),
  ),
  pricingThreads: setting('EVENTLY_PRICING_THREADS', 'Pricing actor threads (they split the shards)', 1, int(1, 64)),
  pricingIntervalSeconds: setting(
    'EVENTLY_PRICING_INTERVAL_SECONDS',
    'Seconds between two dynamic price evaluations, for a policy that names no interval',
    60,
    int(1, 86400),
  ),
  pricingShortWindowSeconds: setting(
    'EVENTLY_PRICING_SHORT_WINDOW_SECONDS',
    'Recent window of booking velocity for dynamic pricing (quick to rise)',
    300,
    int(1, 86400),
  ),
  pricingLongWindowSeconds: setting(
    'EVENTLY_PRICING_LONG_WINDOW_SECONDS',
    'Longer window of booking velocity for dynamic pricing (slow to fall); at least the short window',
    3600,
    int(1, 604800),
  ),
  pricingSettleMs: setting(
    'EVENTLY_PRICING_SETTLE_MS',
    "Least time between an interval boundary and its evaluation, for transactions still open at it (the shard's watermark decides)",
    2000,
    int(0, 600000),
  ),
  analyticsThreads: setting(
    'EVENTLY_ANALYTICS_THREADS',
    "Analytics actor threads (they split the shards' domain streams; reads, rebuilds and exports go to any of them)",
    1,
    int(1, 64),
  ),
  analyticsTickMs: setting(
    'EVENTLY_ANALYTICS_TICK_MS',
    'How often analytics looks for stalled sales',
    30000,
    int(100, 3600000),
  ),
  outboxPollMs: setting(
    'EVENTLY_OUTBOX_POLL_MS',
    'How often a relay looks for domain events a dead process left unpublished',
    1000,
    int(50, 60000),
  ),
  outboxGapMs: setting(
    'EVENTLY_OUTBOX_GAP_MS',
    'Least time between two outbox relay passes of one thread while commits keep coming (their rows go together); 0 = a pass per commit',
    50,
    int(0, 10000),
  ),
  batching: setting(
    'EVENTLY_BATCHING',
    'Serve concurrent bookings of one event in one transaction (on/off)',
    true,
    onOff,
  ),
  batchMax: setting('EVENTLY_BATCH_MAX', 'Most bookings in one batch transaction', 256, int(1, 10000)),
  backgroundNice: setting(
    'EVENTLY_BACKGROUND_NICE',
    'OS nice value of background actor threads (mailer, analytics, pricing, audit): the booking path gets the CPU first',
    10,
    int(0, 19),
  ),
  backgroundYieldMs: setting(
    'EVENTLY_BACKGROUND_YIELD_MS',
    'Longest a background run waits for the booking path to go quiet; 0 = never waits',
    1000,
    int(0, 20000),
  ),
  disabledPools: setting(
    'EVENTLY_DISABLED_POOLS',
    'Comma-separated background pools not to start (mailer, analytics, pricing), e.g. to measure what each costs; their work waits in the stream',
    [] as string[],
    optionalPools,
  ),
  identityNice: setting(
    'EVENTLY_IDENTITY_NICE',
    'Nice value of the identity (password hashing) threads: under load the booking path goes first; 0 = same priority',
    10,
    int(0, 19),
  ),
  stopTimeoutMs: setting(
    'EVENTLY_STOP_TIMEOUT_MS',
    'Longest a stop on SIGINT/SIGTERM takes: actors get half to finish in-flight work (the rest resumes at the next start), then the embedded servers stop; past it the process exits and kills them',
    9000,
    int(1000, 600000),
  ),
  lockTtlMs: setting('EVENTLY_LOCK_TTL_MS', 'TTL of the Redis booking lock', 30000, int(100, 600000)),
  lockWaitMs: setting(
    'EVENTLY_LOCK_WAIT_MS',
    "How long a booking waits for the same user's lock before 409 BOOKING_IN_PROGRESS",
    2000,
    int(0, 60000),
  ),
  brokerTimeoutMs: setting(
    'EVENTLY_BROKER_TIMEOUT_MS',
    'Edge → actor request timeout (then 504)',
    5000,
    int(50, 120000),
  ),
  unservedWaitMs: setting(
    'EVENTLY_UNSERVED_WAIT_MS',
    'How long a request waits for an actor when none serves its subject (a restart or hand-over gap) before 503; capped by the broker timeout',
    3000,
    int(0, 120000),
  ),
  httpRequestTimeoutMs: setting(
    'EVENTLY_HTTP_REQUEST_TIMEOUT_MS',
    "A request's headers and body must arrive within this; a client that stalls is answered 408 and cut off (checked every second)",
    20000,
    int(1000, 600000),
  ),
  httpHeadersTimeoutMs: setting(
    'EVENTLY_HTTP_HEADERS_TIMEOUT_MS',
    "A request's headers must arrive within this (at most the request timeout)",
    10000,
    int(1000, 600000),
  ),
  httpKeepAliveTimeoutMs: setting(
    'EVENTLY_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    "How long an idle keep-alive connection stays open (above HAProxy's own keep-alive timeout)",
    72000,
    int(1000, 600000),
  ),
  httpMaxRequestsPerSocket: setting(
    'EVENTLY_HTTP_MAX_REQUESTS_PER_SOCKET',
    'Requests one keep-alive connection may carry before it is closed (0 = no limit; past the limit Node answers 503 to a client that ignores connection: close)',
    0,
    int(0, 1_000_000),
  ),
  bodyLimit: setting('EVENTLY_BODY_LIMIT', 'Largest accepted request body in bytes', 16384, int(256, 10485760)),
  jwtSecret: setting(
    'EVENTLY_JWT_SECRET',
    'HMAC secret for tokens (embedded default: generated once into the data dir)',
    undefined,
    str,
  ),
  natsEdgePassword: setting(
    'EVENTLY_NATS_EDGE_PASSWORD',
    'Password of the NATS user `edge` (embedded default: generated into the data dir); unset with NATS_URL = connect without credentials',
    undefined,
    str,
  ),
  natsActorsPassword: setting(
    'EVENTLY_NATS_ACTORS_PASSWORD',
    'Password of the NATS user `actors` (embedded default: generated into the data dir)',
    undefined,
    str,
  ),
  natsSupervisorPassword: setting(
    'EVENTLY_NATS_SUPERVISOR_PASSWORD',
    'Password of the NATS user `supervisor` (embedded default: generated into the data dir)',
    undefined,
    str,
  ),
  identityKey: setting(
    'EVENTLY_IDENTITY_KEY',
    'HMAC key with which edges sign the acting user for actors (embedded default: generated once into the data dir); also read from EVENTLY_IDENTITY_KEY_FILE',
    undefined,
    str,
  ),
  identityPreviousKey: setting(
    'EVENTLY_IDENTITY_PREVIOUS_KEY',
    'The identity key before the last rotation: still verified by actors, never used to sign',
    undefined,
    str,
  ),
  tokenCheckTtlMs: setting(
    'EVENTLY_TOKEN_CHECK_TTL_MS',
    "How long an edge trusts its cached copy of a user's status, role and token version (a change is also broadcast and applies at once)",
    3000,
    int(0, 10000),
  ),
  jwtTtl: setting('EVENTLY_JWT_TTL', 'Token lifetime in seconds', 3600, int(60, 2592000)),
  kdfCost: setting('EVENTLY_KDF_COST', 'scrypt cost exponent (N = 2^cost) for new password hashes', 15, int(10, 20)),
  kdfThreads: setting(
    'EVENTLY_KDF_THREADS',
    'Password hashing threads per identity thread (niced; at most one hash each at a time)',
    2,
    int(1, 16),
  ),
  adminEmail: setting(
    'EVENTLY_ADMIN_EMAIL',
    'First admin account, created at start if missing',
    'admin@evently.local',
    str,
  ),
  adminPassword: setting(
    'EVENTLY_ADMIN_PASSWORD',
    'First admin password (change it outside development)',
    'evently-admin',
    str,
  ),
  wsMaxSockets: setting(
    'EVENTLY_WS_MAX_SOCKETS',
    'Most WebSocket clients one edge accepts (then 503 on upgrade)',
    20000,
    int(1, 1000000),
  ),
  wsMaxSubscriptions: setting(
    'EVENTLY_WS_MAX_SUBSCRIPTIONS',
    'Most events one WebSocket may watch',
    100,
    int(1, 10000),
  ),
  wsMaxMessage: setting(
    'EVENTLY_WS_MAX_MESSAGE',
    'Largest client WebSocket message in bytes (larger ones get an error frame)',
    8192,
    int(256, 1048576),
  ),
  wsSoftBuffer: setting(
    'EVENTLY_WS_SOFT_BUFFER',
    'Bytes queued to a WebSocket above which availability frames are skipped',
    65536,
    int(1024, 67108864),
  ),
  wsHardBuffer: setting(
    'EVENTLY_WS_HARD_BUFFER',
    'Bytes queued to a WebSocket above which it is terminated',
    1048576,
    int(1024, 268435456),
  ),
  wsPingMs: setting(
    'EVENTLY_WS_PING_MS',
    'WebSocket ping interval; a client that misses a pong is terminated',
    30000,
    int(100, 600000),
  ),
  presenceIntervalMs: setting(
    'EVENTLY_PRESENCE_INTERVAL_MS',
    'How often each edge reports its watchers (an edge unheard for 3 intervals is forgotten)',
    1000,
    int(50, 60000),
  ),
  presenceThrottleMs: setting(
    'EVENTLY_PRESENCE_THROTTLE_MS',
    'Least time between two presence reports or two watcher pushes for one event',
    250,
    int(10, 60000),
  ),
  natsUrl: setting('NATS_URL', 'NATS server; unset = start the embedded one', undefined, url(['nats:', 'tls:'])),
  redisUrl: setting('REDIS_URL', 'Redis server; unset = start the embedded one', undefined, url(['redis:', 'rediss:'])),
  databaseUrl: setting(
    'DATABASE_URL',
    'PostgreSQL; unset = start the embedded cluster',
    undefined,
    url(['postgres:', 'postgresql:']),
  ),
  databaseReadUrl: setting(
    'DATABASE_READ_URL',
    'PostgreSQL for analytics reads and exports (a read replica); unset = DATABASE_URL',
    undefined,
    url(['postgres:', 'postgresql:']),
  ),
  logLevel: setting('EVENTLY_LOG_LEVEL', 'pino log level', 'info', logLevel),
  jwtPreviousSecret: setting(
    'EVENTLY_JWT_PREVIOUS_SECRET',
    'The signing secret before the last rotation, still accepted for verification until its tokens expire',
    undefined,
    str,
  ),
  rateLimits: setting('EVENTLY_RATE_LIMITS', 'Every rate-limit tier on or off (off for load tests)', true, onOff),
  rateWindowMs: setting('EVENTLY_RATE_WINDOW_MS', 'Window of every rate-limit tier', 60000, int(100, 3600000)),
  rateGlobalMax: setting(
    'EVENTLY_RATE_GLOBAL_MAX',
    'Requests per window across every edge and client',
    600000,
    int(1, 1_000_000_000),
  ),
  rateIpMax: setting('EVENTLY_RATE_IP_MAX', 'Requests per window from one client IP', 1200, int(1, 1_000_000_000)),
  rateUserMax: setting(
    'EVENTLY_RATE_USER_MAX',
    'Requests per window from one signed-in user',
    600,
    int(1, 1_000_000_000),
  ),
  rateBookingMax: setting(
    'EVENTLY_RATE_BOOKING_MAX',
    'Booking requests per window from one user',
    60,
    int(1, 1_000_000_000),
  ),
  rateAuthMax: setting(
    'EVENTLY_RATE_AUTH_MAX',
    'Register and login requests per window from one client IP',
    30,
    int(1, 1_000_000_000),
  ),
  loginFailuresMax: setting(
    'EVENTLY_LOGIN_FAILURES_MAX',
    "Failed logins of one account from one client IP after which that IP's attempts at it wait out the failure window",
    5,
    int(1, 1000),
  ),
  loginAccountFailuresMax: setting(
    'EVENTLY_LOGIN_ACCOUNT_FAILURES_MAX',
    'Failed logins of one account from all IPs together after which every attempt at it is slowed (never refused)',
    20,
    int(1, 100000),
  ),
  loginSlowDownMs: setting(
    'EVENTLY_LOGIN_SLOWDOWN_MS',
    'How long each login to an account past its all-IP failure limit is held back',
    1000,
    int(0, 30000),
  ),
  loginFailureWindowMs: setting(
    'EVENTLY_LOGIN_FAILURE_WINDOW_MS',
    'How long a failed login counts against its account',
    900000,
    int(100, 86400000),
  ),
  corsOrigins: setting(
    'EVENTLY_CORS_ORIGINS',
    'Comma-separated browser origins allowed to call the API; empty = none',
    [] as string[],
    list,
  ),
  maxEventLoopDelayMs: setting(
    'EVENTLY_MAX_EVENT_LOOP_DELAY_MS',
    'The edge answers 503 while its event-loop delay is above this; 0 = never',
    1000,
    int(0, 60000),
  ),
  cacheL1TtlMs: setting(
    'EVENTLY_CACHE_L1_TTL_MS',
    "Lifetime of an event in an edge's in-process cache",
    500,
    int(0, 60000),
  ),
  cacheL2TtlMs: setting(
    'EVENTLY_CACHE_L2_TTL_MS',
    'Lifetime of an event in the shared Redis cache',
    500,
    int(0, 60000),
  ),
  cacheMaxEntries: setting(
    'EVENTLY_CACHE_MAX_ENTRIES',
    "Most events in an edge's in-process cache",
    10000,
    int(1, 10_000_000),
  ),
  trustedProxies: setting(
    'EVENTLY_TRUSTED_PROXIES',
    'Comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed; empty = none',
    [] as string[],
    list,
  ),
  mongoUrl: setting(
    'MONGO_URL',
    'MongoDB for the Agenda scheduler; unset = Agenda keeps its jobs in PostgreSQL (DATABASE_URL)',
    undefined,
    url(['mongodb:', 'mongodb+srv:']),
  ),
  schedulerPollMs: setting('EVENTLY_SCHEDULER_POLL_MS', 'How often Agenda looks for due jobs', 5000, int(100, 600000)),
  holdSweepMs: setting(
    'EVENTLY_HOLD_SWEEP_MS',
    'How often the scheduler expires holds whose timer was lost',
    15000,
    int(1000, 86400000),
  ),
  lockCleanupMs: setting(
    'EVENTLY_LOCK_CLEANUP_MS',
    'How often the scheduler clears orphaned booking and job locks',
    60000,
    int(1000, 86400000),
  ),
  completeEventsMs: setting(
    'EVENTLY_COMPLETE_EVENTS_MS',
    'How often the scheduler marks ended events completed',
    60000,
    int(1000, 86400000),
  ),
  retentionCleanupMs: setting(
    'EVENTLY_RETENTION_CLEANUP_MS',
    'How often the scheduler deletes bookkeeping rows past their retention',
    3600000,
    int(1000, 86400000),
  ),
  waitroomThreads: setting(
    'EVENTLY_WAITROOM_THREADS',
    'Waiting-room actor threads (they split the shards)',
    1,
    int(1, 64),
  ),
  waitroomNice: setting(
    'EVENTLY_WAITROOM_NICE',
    "OS nice value of the waiting-room threads: their ticks, joins and polls can wait a few milliseconds, an admitted person's booking should not; 0 = same priority as the booking path",
    5,
    int(0, 19),
  ),
  waitroomTickMs: setting(
    'EVENTLY_WAITROOM_TICK_MS',
    'How often a waiting room admits, expires and tells the edges (also the least time between two queue frames)',
    500,
    int(50, 60000),
  ),
  waitroomAdmissionTtlSeconds: setting(
    'EVENTLY_WAITROOM_ADMISSION_TTL_SECONDS',
    'Default lifetime of an admission, for a room that names none',
    600,
    int(10, 86400),
  ),
  waitroomStartShoppers: setting(
    'EVENTLY_WAITROOM_START_SHOPPERS',
    'Adaptive rooms: admitted people allowed to shop at once before any booking rate is measured (and the least ever allowed)',
    50,
    int(1, 1_000_000),
  ),
  waitroomShopSeconds: setting(
    'EVENTLY_WAITROOM_SHOP_SECONDS',
    'Adaptive rooms: seconds of the measured booking rate kept shopping at once (admitted and not yet booked)',
    5,
    int(1, 3600),
  ),
  waitroomTargetBookingMs: setting(
    'EVENTLY_WAITROOM_TARGET_BOOKING_MS',
    "Adaptive rooms: while the edges' booking time of the event (p90 over the last second) is above this, nobody more is admitted; 0 = no latency signal",
    25,
    int(0, 60000),
  ),
  admissionSecret: setting(
    'EVENTLY_ADMISSION_SECRET',
    'HMAC key of waiting-room admission tokens; unset = derived from EVENTLY_JWT_SECRET',
    undefined,
    str,
  ),
  rateQueueMax: setting(
    'EVENTLY_RATE_QUEUE_MAX',
    'Waiting-room joins and position polls per window from one user',
    120,
    int(1, 1_000_000_000),
  ),
  rateQueueIpMax: setting(
    'EVENTLY_RATE_QUEUE_IP_MAX',
    'Waiting-room joins and position polls per window from one client IP',
    600,
    int(1, 1_000_000_000),
  ),
  mailerThreads: setting(
    'EVENTLY_MAILER_THREADS',
    "Mailer actor threads (they split the shards' domain events; every one sends; rendering a mail with its QR codes is CPU work, so two use both cores once a sale is over)",
    2,
    int(1, 16),
  ),
  publicUrl: setting(
    'EVENTLY_PUBLIC_URL',
    "Base URL people reach Evently at; links in mails start with it (unset = the edge's own address)",
    undefined,
    url(['http:', 'https:']),
  ),
  ticketSecret: setting(
    'EVENTLY_TICKET_SECRET',
    'Secret (at least 32 characters) that encrypts the ticket signing keys in Postgres and signs ticket and hold links in mails (embedded default: generated once into the data dir)',
    undefined,
    secret(32),
  ),
  checkinThreads: setting(
    'EVENTLY_CHECKIN_THREADS',
    "Check-in actor threads (they split the shards: one thread owns an event's door)",
    1,
    int(1, 64),
  ),
  mailFrom: setting('MAIL_FROM', 'Sender of every mail', 'Evently <no-reply@evently.local>', mailbox),
  sendgridApiKey: setting(
    'SENDGRID_API_KEY',
    'SendGrid API key; set = send through SendGrid first, SMTP is the fallback',
    undefined,
    str,
  ),
  smtpUrl: setting(
    'SMTP_URL',
    'SMTP server (smtp:// or smtps://, credentials in the URL); unset on the embedded default = the local mail sink',
    undefined,
    url(['smtp:', 'smtps:']),
  ),
  mailMaxAttempts: setting(
    'EVENTLY_MAIL_MAX_ATTEMPTS',
    'Attempts at one mail before it goes to the dead-letter store',
    8,
    int(1, 100),
  ),
  mailRetryBaseMs: setting(
    'EVENTLY_MAIL_RETRY_BASE_MS',
    "Wait after a mail's first failed attempt; doubled after each further one",
    30000,
    int(10, 3600000),
  ),
  mailSaleHoldMs: setting(
    'EVENTLY_MAIL_SALE_HOLD_MS',
    'During a sale (EVENTLY_MAIL_SALE_RATE), a mail is sent only once it is this old, so the sale keeps the cores; 0 = never held',
    60000,
    int(0, 600000),
  ),
  mailSaleRate: setting(
    'EVENTLY_MAIL_SALE_RATE',
    "Bookings a second in the mailer's process from which a sale is on (until 10 s under it) and mail is held (EVENTLY_MAIL_SALE_HOLD_MS)",
    10,
    int(1, 1000000),
  ),
  webhookThreads: setting(
    'EVENTLY_WEBHOOK_THREADS',
    "Webhook actor threads (they split the shards' domain events; every one sends)",
    1,
    int(1, 16),
  ),
  webhookTimeoutMs: setting(
    'EVENTLY_WEBHOOK_TIMEOUT_MS',
    'How long a webhook receiver has to answer (connect to end of its first KiB) before the attempt counts as failed',
    10000,
    int(100, 60000),
  ),
  webhookRetryBaseMs: setting(
    'EVENTLY_WEBHOOK_RETRY_BASE_MS',
    "Wait after a webhook delivery's first failed attempt; doubled after each further one (with jitter, up to EVENTLY_WEBHOOK_RETRY_MAX_MS)",
    5000,
    int(10, 3600000),
  ),
  webhookRetryMaxMs: setting(
    'EVENTLY_WEBHOOK_RETRY_MAX_MS',
    'Longest wait between two attempts at one webhook delivery',
    3600000,
    int(10, 86400000),
  ),
  webhookRetryWindowMs: setting(
    'EVENTLY_WEBHOOK_RETRY_WINDOW_MS',
    'How long after its first attempt a failing webhook delivery is still retried; past it the delivery is dead and its endpoint disabled',
    86400000,
    int(100, 604800000),
  ),
  webhookEndpointConcurrency: setting(
    'EVENTLY_WEBHOOK_ENDPOINT_CONCURRENCY',
    "Most deliveries in flight to one endpoint at a time (each for a different event; one event's go one by one, in order)",
    4,
    int(1, 256),
  ),
  webhookSecretGraceMs: setting(
    'EVENTLY_WEBHOOK_SECRET_GRACE_MS',
    'After a secret rotation, how long deliveries are signed with the previous secret too',
    86400000,
    int(0, 2592000000),
  ),
  webhookAllowHosts: setting(
    'EVENTLY_WEBHOOK_ALLOW_HOSTS',
    'Comma-separated hosts or host:port that webhook URLs may use although they resolve to loopback, private or link-local addresses',
    [] as string[],
    list,
  ),
} as const;

type Settings = typeof settings;
export type Config = Readonly<{
  [K in keyof Settings]: Settings[K] extends Setting<infer T>
    ? Settings[K]['default'] extends undefined
      ? T | undefined
      : T
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
    let raw = env[s.env];
    // Docker's convention for secrets: NAME_FILE names a file holding the value (compose mounts them under /run/secrets).
    const file = env[`${s.env}_FILE`];
    if ((raw === undefined || raw === '') && file) {
      try {
        raw = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${s.env}_FILE names a file that cannot be read: ${(err as Error).message}`);
        continue;
      }
    }
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

/** Where people reach Evently: EVENTLY_PUBLIC_URL, else this process's edge address. */
export function publicUrlOf(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const host = ['0.0.0.0', '::', ''].includes(config.httpHost)
    ? '127.0.0.1'
    : config.httpHost.includes(':')
      ? `[${config.httpHost}]`
      : config.httpHost;
  return `http://${host}:${config.httpPort}`;
}

/** What another process needs to join this system as a supervisor: the servers and the shared secrets. */
export const JOIN_SETTINGS = [
  'natsUrl',
  'redisUrl',
  'databaseUrl',
  'jwtSecret',
  'ticketSecret',
  'publicUrl',
  'identityKey',
  'natsSupervisorPassword',
  'natsActorsPassword',
  'natsEdgePassword',
  'shards',
] as const satisfies readonly (keyof Config)[];

/** What a second supervisor started from a config takes along: how to join, and what tests and drills vary. */
export const SUPERVISOR_SETTINGS = [
  ...JOIN_SETTINGS,
  'leaseTtlMs',
  'lockTtlMs',
  'adminPort',
  'kdfCost',
  'logLevel',
  'identityNice',
  'backgroundNice',
  'waitroomNice',
  'disabledPools',
] as const satisfies readonly (keyof Config)[];

/** The environment that gives another process these settings of `config`, by their own variable names. */
export function envOf(config: Config, keys: readonly (keyof Config)[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of keys) {
    // Every setting parses to a string, a number, a boolean or a list of strings.
    const value = config[key] as string | number | boolean | readonly string[] | undefined;
    if (value === undefined) continue;
    env[settings[key].env] = typeof value === 'object' ? value.join(',') : String(value);
  }
  return env;
}

/** Overrides for tests and the embedded stack, validated by the same parsers. */
export function withOverrides(base: Config, overrides: Partial<Record<keyof Config, unknown>>): Config {
  return Object.freeze({ ...base, ...overrides }) as Config;
}
