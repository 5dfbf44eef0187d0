import { Type, type Static } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from './common.js';

export const WaitlistStatus = Type.Union([
  Type.Literal('waiting'),
  Type.Literal('offered'),
  Type.Literal('booked'),
  Type.Literal('expired'),
  Type.Literal('left'),
]);

export const Offer = Type.Object({ holdId: Uuid, expiresAt: Timestamp });

export const WaitlistEntry = Type.Object({
  id: Uuid,
  eventId: Uuid,
  userId: Uuid,
  quantity: Type.Integer(),
  priority: Type.Integer({ description: 'Higher tiers are served first; admins set it' }),
  position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'Place among waiting entries (1 = next); null once not waiting',
  }),
  status: WaitlistStatus,
  offer: Type.Union([Offer, Type.Null()]),
  joinedAt: Timestamp,
});
export type WaitlistEntry = Static<typeof WaitlistEntry>;

/** Body of POST /v1/events/:id/waitlist: a party waits as one entry. */
export const WaitlistBody = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);

export const JoinWaitlist = Type.Object(
  { eventId: Uuid, quantity: WaitlistBody.properties.quantity },
  { additionalProperties: false },
);
export type JoinWaitlist = Static<typeof JoinWaitlist>;

export const PriorityBody = Type.Object(
  {
    priority: Type.Integer({ minimum: -1000, maximum: 1000 }),
  },
  { additionalProperties: false },
);

export const SetPriority = Type.Object(
  { eventId: Uuid, entryId: Uuid, priority: PriorityBody.properties.priority },
  { additionalProperties: false },
);
export type SetPriority = Static<typeof SetPriority>;

export const ListWaitlist = Type.Object({ eventId: Uuid, ...PageQuery }, { additionalProperties: false });
export type ListWaitlist = Static<typeof ListWaitlist>;

export const WaitlistPage = Page(WaitlistEntry);
export type WaitlistPage = Static<typeof WaitlistPage>;

export const HoldStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('confirmed'),
  Type.Literal('expired'),
  Type.Literal('released'),
]);

/** Seats reserved for one waitlisted user until expiresAt; counted out of `available`. */
export const Hold = Type.Object({
  id: Uuid,
  eventId: Uuid,
  userId: Uuid,
  entryId: Uuid,
  quantity: Type.Integer(),
  status: HoldStatus,
  expiresAt: Timestamp,
});
export type Hold = Static<typeof Hold>;

export const HoldRef = Type.Object({ holdId: Uuid }, { additionalProperties: false });
export type HoldRef = Static<typeof HoldRef>;

/** A hold for its owner or an admin, or for whoever holds the signed hold-page link. */
export const HoldLookup = Type.Object(
  {
    holdId: Uuid,
    link: Type.Optional(Type.String({ maxLength: 64, description: 'Signature of a hold-page link' })),
  },
  { additionalProperties: false },
);
export type HoldLookup = Static<typeof HoldLookup>;

/** Reply of the hold-expiry backstop: how many overdue holds of the event it expired. */
export const ExpiredHolds = Type.Object({ expired: Type.Integer({ minimum: 0 }) });
export type ExpiredHolds = Static<typeof ExpiredHolds>;
