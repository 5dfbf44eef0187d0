// The audit actor: writes the audit batches edges publish to JetStream into
// the append-only audit_log table, and answers admins' queries over it.
import { threadId } from 'node:worker_threads';
import { connect } from 'nats';
import { ok, refuse, type CallContext, type ListAudit } from '../../protocol/index.js';
import type { StartActor } from '../../platform/actor.js';
import { openPostgres } from '../../platform/resources.js';
import { listRecords } from './records.js';
import { startAuditWriter } from './writer.js';
import { natsOptions } from '../../platform/nats-connect.js';

export const start: StartActor<'audit'> = async ({ config, log }) => {
  const pool = openPostgres(config, log, 4);
  const nc = await connect(
    natsOptions(config, 'actors', { name: `evently-audit-writer-${threadId}`, maxReconnectAttempts: -1 }),
  );
  const writer = await startAuditWriter(nc, pool, log);
  return {
    handlers: {
      list: (req: ListAudit, ctx: CallContext) =>
        ctx.role === 'admin'
          ? listRecords(pool, req)
          : Promise.resolve(refuse('FORBIDDEN', 'only admins read the audit log')),
      ping: async () => {
        await pool.query('SELECT 1');
        return ok({ kind: 'audit', shard: null, thread: threadId });
      },
    },
    async stop() {
      await writer.stop();
      await nc.drain();
      await pool.end();
    },
  };
};
