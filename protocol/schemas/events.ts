import { Type, type Static } from 'typebox';
import { Currency, Money, Page, PageQuery, Timestamp, Uuid } from './common.js';
import { PricingRules } from './pricing.js';

export const EventStatus = Type.Union([
  Type.Literal('scheduled'),
  Type.Literal('cancelled'),
  Type.Literal('completed'),
]);

export const Event = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  venue: Type.String(),
  startsAt: Timestamp,
  endsAt: Type.Union([Timestamp, Type.Null()]),
  capacity: Type.Integer(),
  available: Type.Integer(),
  held: Type.Integer({
    description: 'Seats held for waitlisted people (in holds or awaiting an offer); capacity = sold + held + available',
  }),
  price: Money,
  currency: Currency,
  maxTicketsPerUser: Type.Integer(),
  status: EventStatus,
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Event = Static<typeof Event>;

const editable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 5000 }),
  venue: Type.String({ minLength: 1, maxLength: 200 }),
  startsAt: Timestamp,
  endsAt: Type.Union([Timestamp, Type.Null()]),
  capacity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  price: Money,
  currency: Currency,
  maxTicketsPerUser: Type.Integer({ minimum: 1, maximum: 10_000 }),
};

export const CreateEvent = Type.Object(
  {
    name: editable.name,
    description: Type.Optional(editable.description),
    venue: editable.venue,
    startsAt: editable.startsAt,
    endsAt: Type.Optional(editable.endsAt),
    capacity: editable.capacity,
    price: editable.price,
    currency: Type.Optional(editable.currency),
    maxTicketsPerUser: Type.Optional(editable.maxTicketsPerUser),
    pricing: Type.Optional(PricingRules),
  },
  { additionalProperties: false },
);
export type CreateEvent = Static<typeof CreateEvent>;

export const EventChanges = Type.Object(
  {
    name: Type.Optional(editable.name),
    description: Type.Optional(editable.description),
    venue: Type.Optional(editable.venue),
    startsAt: Type.Optional(editable.startsAt),
    endsAt: Type.Optional(editable.endsAt),
    capacity: Type.Optional(editable.capacity),
    price: Type.Optional(editable.price),
    currency: Type.Optional(editable.currency),
    maxTicketsPerUser: Type.Optional(editable.maxTicketsPerUser),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type EventChanges = Static<typeof EventChanges>;

export const EventRef = Type.Object({ eventId: Uuid }, { additionalProperties: false });
export type EventRef = Static<typeof EventRef>;

export const UpdateEvent = Type.Object({ eventId: Uuid, changes: EventChanges }, { additionalProperties: false });
export type UpdateEvent = Static<typeof UpdateEvent>;

export const ListEvents = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in name or venue' })),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    status: Type.Optional(EventStatus),
    venue: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Venue name, exact but case-insensitive' }),
    ),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type ListEvents = Static<typeof ListEvents>;

export const EventPage = Page(Event);
export type EventPage = Static<typeof EventPage>;
