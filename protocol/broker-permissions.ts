// Who may publish and subscribe to what on NATS, per broker user: the
// embedded nats-server's config is written from this, and the compose
// cluster's (ops/compose/nats-auth.conf) states the same. Subjects come from
// the protocol's own constants, so a subject added there is covered here.
//
// - edge: sends requests to actors and reads what it serves to clients (the
//   domain feed, presence, account changes, check-in figures, waiting rooms). It can neither publish a domain
//   event nor answer as an actor; it can ask anything an anonymous client
//   could, and act for a user only with the identity key (identity-signature.ts).
// - actors: serve their own subjects, reply, publish domain events through
//   JetStream. They cannot send a request to another actor.
// - supervisor: the operator's process (shard leases, pools, scheduler,
//   admin endpoint): everything.
import { AUDIT_RECORDS_SUBJECT } from './audit.js';
import { DOMAIN_ALL, PRESENCE_ALL } from './domain-events.js';
import { ACTOR_KINDS, SUBJECT_ROOT } from './operations.js';
import { ACCOUNT_CHANGED_SUBJECT } from './schemas/accounts.js';
import { CHECKIN_FIGURES_WILDCARD } from './schemas/checkin.js';
import { BOOKING_PACE_SUBJECTS, QUEUE_SUBJECTS, ROOMS_SUBJECT } from './schemas/waitroom.js';

export const BROKER_ROLES = ['edge', 'actors', 'supervisor'] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

export interface Permissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
}

/** Every actor subject `evently.<kind>.<shard|any>.<operation…>`: four tokens or more, so `evently.identity.changed` is not one. */
const ACTOR_SUBJECTS = ACTOR_KINDS.map((kind) => `${SUBJECT_ROOT}.${kind}.*.>`);
const INBOX = '_INBOX.>';
/** JetStream's API, acknowledgements and flow control: consumers, the outbox relay, the audit writer. */
const JETSTREAM = ['$JS.API.>', '$JS.ACK.>', '$JS.FC.>'];

export const brokerPermissions: Record<BrokerRole, Permissions> = {
  edge: {
    // The audit trail goes in through JetStream's publish (answered on an inbox).
    publish: { allow: [...ACTOR_SUBJECTS, PRESENCE_ALL, AUDIT_RECORDS_SUBJECT, BOOKING_PACE_SUBJECTS, INBOX] },
    subscribe: {
      allow: [
        INBOX,
        DOMAIN_ALL,
        PRESENCE_ALL,
        ACCOUNT_CHANGED_SUBJECT,
        CHECKIN_FIGURES_WILDCARD,
        ROOMS_SUBJECT,
        QUEUE_SUBJECTS,
      ],
    },
  },
  actors: {
    publish: {
      allow: [
        INBOX,
        DOMAIN_ALL,
        ACCOUNT_CHANGED_SUBJECT,
        CHECKIN_FIGURES_WILDCARD,
        ROOMS_SUBJECT,
        QUEUE_SUBJECTS,
        ...JETSTREAM,
      ],
    },
    subscribe: { allow: [...ACTOR_SUBJECTS, BOOKING_PACE_SUBJECTS, INBOX] },
  },
  supervisor: {
    publish: { allow: ['>'] },
    subscribe: { allow: ['>'] },
  },
};
