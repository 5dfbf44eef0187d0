// Connection options of each kind of process on the broker: the NATS user of
// its role (see protocol/broker-permissions.ts for what each may do) and the
// password from configuration. Without a password (an external NATS that
// has no authentication) the connection carries no credentials.
import type { ConnectionOptions } from 'nats';
import type { BrokerRole } from '../protocol/index.js';
import type { Config } from './config.js';

const passwordOf = (config: Config, role: BrokerRole): string | undefined =>
  role === 'edge' ? config.natsEdgePassword : role === 'actors' ? config.natsActorsPassword : config.natsSupervisorPassword;

export function natsOptions(config: Config, role: BrokerRole, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  const pass = passwordOf(config, role);
  return { servers: config.natsUrl, ...(pass ? { user: role, pass } : {}), ...extra };
}
