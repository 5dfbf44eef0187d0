// The supervisor as a NATS service (micro API): `$SRV.PING|INFO|STATS` find
// every running supervisor, and its read endpoints answer what GET /pools and
// GET /shards answer. Read-only, so NATS access is the only gate; changes go
// through the admin endpoint and its token.
import type { NatsConnection, Service, ServiceMsg } from 'nats';
import { SUPERVISOR_SERVICE, adminSubject, type MemberValue } from '../../protocol/index.js';
import type { Logger } from '../../platform/logger.js';
import type { SupervisorControl } from '../control.js';

export const SERVICE_VERSION = '1.0.0';

export async function startAdminService(
  nc: NatsConnection,
  control: SupervisorControl,
  me: MemberValue,
  log: Logger,
): Promise<Service> {
  const service = await nc.services.add({
    name: SUPERVISOR_SERVICE,
    version: SERVICE_VERSION,
    description: 'Evently supervisor: actor pools and shard leases',
    metadata: { supervisor: me.id, host: me.host, pid: String(me.pid) },
  });
  // The services API only catches synchronous throws: answer async work here.
  const answer = (read: () => Promise<unknown>) => (err: Error | null, msg: ServiceMsg) => {
    if (err) return;
    read().then(
      (value) => msg.respond(JSON.stringify(value)),
      (readErr: unknown) => {
        log.warn({ err: readErr, subject: msg.subject }, 'admin service request failed');
        msg.respondError(500, readErr instanceof Error ? readErr.message : String(readErr));
      },
    );
  };
  service.addEndpoint('pools', { subject: adminSubject(me.id, 'pools'), handler: answer(() => control.report()) });
  service.addEndpoint('shards', { subject: adminSubject(me.id, 'shards'), handler: answer(() => control.shards()) });
  void service.stopped.then((err) => {
    if (err) log.error({ err }, 'admin NATS service stopped');
  });
  return service;
}
