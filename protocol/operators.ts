// What operators and supervisors say to each other: the shard-lease bucket in
// JetStream KV, the supervisor's NATS service (micro) and the shapes the
// admin endpoint answers with. The HTTP routes and the NATS endpoints share
// these schemas.
import { Type, type Static } from 'typebox';
import { SUBJECT_ROOT } from './operations.js';

/** JetStream KV bucket holding `shard.<n>` leases and `member.<id>` heartbeats. */
export const SHARD_LEASE_BUCKET = 'evently_shard_leases';
export const leaseKey = (shard: number): string => `shard.${shard}`;
export const memberKey = (supervisorId: string): string => `member.${supervisorId}`;
export const MEMBER_KEYS = 'member.>';

/** The supervisor's NATS service name, as `$SRV.PING|INFO|STATS.<name>` discovers it. */
export const SUPERVISOR_SERVICE = 'evently-supervisor';
/** Each supervisor answers on its own subjects, so an operator can reach every one. */
export const adminSubject = (supervisorId: string, endpoint: 'pools' | 'shards'): string =>
  `${SUBJECT_ROOT}.admin.${supervisorId}.${endpoint}`;

export const ThreadPlacement = Type.Object({ slot: Type.Integer(), thread: Type.Union([Type.Integer(), Type.Null()]) });

/** The value of a shard lease: who holds it and which thread of each sharded pool serves it. */
export const LeaseValue = Type.Object({
  owner: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  acquiredAt: Type.Integer({ description: 'epoch ms when this supervisor took the lease' }),
  pools: Type.Record(Type.String(), ThreadPlacement),
});
export type LeaseValue = Static<typeof LeaseValue>;

export const MemberValue = Type.Object({
  id: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  startedAt: Type.Integer(),
  adminUrl: Type.Union([Type.String(), Type.Null()]),
});
export type MemberValue = Static<typeof MemberValue>;

export const PoolReport = Type.Object({
  kind: Type.String(),
  threads: Type.Integer(),
  busy: Type.Union([Type.Integer(), Type.Null()], {
    description: 'requests in flight across its threads; null if a thread did not report',
  }),
  restarts: Type.Integer({ description: 'threads replaced after they died' }),
  shardsOwned: Type.Union([Type.Array(Type.Integer()), Type.Null()], {
    description: 'null for a pool that is not sharded',
  }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lag: Type.Optional(
    Type.Union([Type.Integer(), Type.Null()], {
      description:
        'domain messages its stream consumers have not yet acknowledged (all supervisors together); null if it reads no stream or it could not be read',
    }),
  ),
  slots: Type.Array(
    Type.Object({
      index: Type.Integer(),
      thread: Type.Union([Type.Integer(), Type.Null()]),
      shards: Type.Array(Type.Integer()),
      restarts: Type.Integer(),
      busy: Type.Union([Type.Integer(), Type.Null()]),
      lastError: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});
export type PoolReport = Static<typeof PoolReport>;

export const PoolsReply = Type.Object({
  supervisor: MemberValue,
  state: Type.Union([Type.Literal('running'), Type.Literal('draining'), Type.Literal('drained')]),
  pools: Type.Array(PoolReport),
});
export type PoolsReply = Static<typeof PoolsReply>;

export const ShardOwner = Type.Object({
  shard: Type.Integer(),
  owner: Type.Union(
    [
      Type.Object({
        id: Type.String(),
        host: Type.String(),
        pid: Type.Integer(),
        pools: Type.Record(Type.String(), ThreadPlacement),
        heldForMs: Type.Integer(),
        renewedAgoMs: Type.Integer(),
      }),
      Type.Null(),
    ],
    { description: 'null while no supervisor holds the lease' },
  ),
});
export const ShardsReply = Type.Object({ shards: Type.Array(ShardOwner), members: Type.Array(MemberValue) });
export type ShardsReply = Static<typeof ShardsReply>;

export const PoolKindParam = Type.Object({ kind: Type.String({ pattern: '^[a-z][a-z-]{0,31}$' }) });
export const ScaleRequest = Type.Object(
  { threads: Type.Integer({ minimum: 1, maximum: 64 }) },
  { additionalProperties: false },
);
export type ScaleRequest = Static<typeof ScaleRequest>;
