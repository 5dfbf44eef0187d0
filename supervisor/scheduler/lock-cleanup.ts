// Lock state that nothing else would ever clear:
//  - Redis booking locks without an expiry (booking_lock:{userId}:{eventId}).
//    Every lock Evently sets has a TTL and a dead inventory thread's locks are
//    freed by its pool at once, so these are only ever hand-made or foreign;
//    they get the normal TTL (EVENTLY_LOCK_TTL_MS). A killed supervisor's
//    locks run out with their TTL sooner than a periodic sweep would find them.
//  - Agenda job locks older than the lock lifetime on jobs whose name no
//    running supervisor defines (a job dropped in a newer release, whose last
//    runner died holding it). Agenda retakes expired locks only for names it
//    defines, so without this such a job shows as running for ever.
// Idempotency claims are not orphaned lock state: a claim is written in the
// transaction of its request and its outcome with it, so a request that dies
// rolls its claim back.
import { expireTimelessLocks } from '../../actors/inventory/public.js';
import type { JobContext } from './context.js';

export async function cleanLocks({ redis, agenda, config, log }: JobContext): Promise<void> {
  const bookingLocks = await expireTimelessLocks(redis, config.lockTtlMs);
  const undefinedNames = (await agenda.db.getDistinctJobNames()).filter((name) => !(name in agenda.definitions));
  let jobLocks = 0;
  if (undefinedNames.length > 0) {
    const deadline = Date.now() - agenda.attrs.defaultLockLifetime;
    const { jobs } = await agenda.queryJobs({ names: undefinedNames, state: 'running' });
    const expired = jobs.filter((job) => job.lockedAt && job.lockedAt.getTime() < deadline).map((job) => job._id);
    if (expired.length > 0) await agenda.db.unlockJobs(expired);
    jobLocks = expired.length;
  }
  if (bookingLocks + jobLocks > 0) log.info({ bookingLocks, jobLocks }, 'lock clean-up cleared orphaned locks');
}
