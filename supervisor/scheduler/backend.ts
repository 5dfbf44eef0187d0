// Where Agenda keeps its jobs: PostgreSQL (DATABASE_URL) by default, MongoDB
// when MONGO_URL is set. Every supervisor shares the one store, and Agenda's
// locks in it are what keep two supervisors from running one job twice.
import { MongoBackend } from '@agendajs/mongo-backend';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { AgendaBackend } from 'agenda';
import type pg from 'pg';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';

/** Advisory-lock namespace of the scheduler (the outbox relay's is 0x0e7e). */
export const SCHEDULER_LOCK_CLASS = 0x0a9e;
const SCHEMA_LOCK = 0;
/** An unreachable MongoDB fails start-up after this, with a message naming MONGO_URL. */
const MONGO_SELECTION_MS = 10_000;

export interface SchedulerBackend {
  /** What Agenda is given: already connected, see `connected`. */
  readonly backend: AgendaBackend;
  readonly kind: 'postgres' | 'mongodb';
}

/**
 * Agenda's Postgres backend creates its tables on connect with CREATE ... IF
 * NOT EXISTS, which races when two supervisors start together; one at a time
 * under an advisory lock, it cannot.
 */
async function oneAtATime(db: pg.Pool, work: () => Promise<void>): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [SCHEDULER_LOCK_CLASS, SCHEMA_LOCK]);
    try {
      await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [SCHEDULER_LOCK_CLASS, SCHEMA_LOCK]);
    }
  } finally {
    client.release();
  }
}

/**
 * The backend as Agenda sees it, connected once by us. Agenda's constructor
 * connects its backend again without handling a failure, so an unreachable
 * store would surface as an unhandled rejection that ends the process; here it
 * fails start-up with a clear message instead, and Agenda's own connect is a
 * no-op.
 */
function connected(backend: AgendaBackend): AgendaBackend {
  return {
    name: backend.name,
    get repository() {
      return backend.repository;
    },
    get notificationChannel() {
      return backend.notificationChannel;
    },
    get logger() {
      return backend.logger;
    },
    get ownsConnection() {
      return backend.ownsConnection;
    },
    connect: async () => undefined,
    disconnect: () => backend.disconnect(),
  };
}

/**
 * Connects the configured store. On Postgres Agenda gets a pool of its own
 * (`agendaDb`, with its errors handled): the reminder consumer saves jobs while
 * holding a connection of the jobs' pool, and must never wait on that same pool.
 */
export async function connectBackend(config: Config, agendaDb: pg.Pool, log: Logger): Promise<SchedulerBackend> {
  if (config.mongoUrl) {
    const backend = new MongoBackend({
      address: config.mongoUrl,
      options: { serverSelectionTimeoutMS: MONGO_SELECTION_MS },
    });
    try {
      await backend.connect();
    } catch (err) {
      throw new Error(`the scheduler cannot reach MongoDB at MONGO_URL: ${(err as Error).message}`);
    }
    return { backend: connected(backend), kind: 'mongodb' };
  }
  const backend = new PostgresBackend({ pool: agendaDb, ensureSchema: true });
  // Its LISTEN connection reports a lost connection as an 'error' event (and reconnects);
  // unheard, that event would end the process. Agenda keeps polling meanwhile.
  backend.notificationChannel?.on('error', (err) => log.warn({ err }, 'scheduler notification channel error'));
  await oneAtATime(agendaDb, () => backend.connect());
  return { backend: connected(backend), kind: 'postgres' };
}
