// Connection options of each kind of process on the broker: the NATS user of
// its role (see protocol/broker-permissions.ts for what each may do) and the
// password from configuration. Without a password (an external NATS that
// has no authentication) the connection carries no credentials.
import type { ConnectionOptions } from 'nats';
import type { BrokerRole } from '../protocol/index.js';
import type { Config } from './config.js';

const passwordOf = (config: Config, role: BrokerRole): string | undefined =>
  role === 'edge'
    ? config.natsEdgePassword
    : role === 'actors'
      ? config.natsActorsPassword
      : config.natsSupervisorPassword;

// nats.js gives up on a first connection after 20 s; a loaded two-core machine starting a dozen actor
// threads at once took longer than that (the CI hog run), and a slow start is not a failed one.
const CONNECT_TIMEOUT_MS = 60_000;

export function natsOptions(
  config: Config,
  role: BrokerRole,
  extra: Partial<ConnectionOptions> = {},
): ConnectionOptions {
  const pass = passwordOf(config, role);
  return {
    servers: config.natsUrl,
    timeout: CONNECT_TIMEOUT_MS,
    // With async traces, nats.js builds two errors with stacks for every request in case it fails (a
    // context and a timeout), beside the one it builds anyway: in a waiting-room sale its error
    // constructor took ~1.5% of the edge's thread. The broker turns a failed request into an outcome
    // naming its subject, so the caller's stack adds nothing.
    noAsyncTraces: true,
    ...(pass ? { user: role, pass } : {}),
    ...extra,
  };
}
