// Pricing: an event's policy (fixed, or dynamic within bounds an admin sets),
// the price a client is quoted, and the history of changes.
import { Type, type Static } from 'typebox';
import { Currency, Money, Page, PageQuery, Timestamp, Uuid } from './common.js';

const money = (description: string) => Type.Integer({ minimum: 0, maximum: 100_000_000, description });

export const PricingStrategy = Type.Union([Type.Literal('fixed'), Type.Literal('dynamic')]);
export type PricingStrategy = Static<typeof PricingStrategy>;

const rules = {
  strategy: PricingStrategy,
  floor: Type.Optional(money('Lowest price dynamic pricing may set, minor units (required for dynamic)')),
  ceiling: Type.Optional(money('Highest price dynamic pricing may set, minor units (required for dynamic)')),
  maxStep: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 100_000_000,
      description: 'Largest move per interval, minor units (default: a tenth of ceiling − floor)',
    }),
  ),
  intervalSeconds: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 86_400,
      description: 'Seconds between two evaluations (default EVENTLY_PRICING_INTERVAL_SECONDS)',
    }),
  ),
};

/** The `pricing` of POST /v1/events: the event's price is the base price. */
export const PricingRules = Type.Object(rules, { additionalProperties: false });
export type PricingRules = Static<typeof PricingRules>;

/** Body of PUT /v1/events/:id/pricing. */
export const PricingBody = Type.Object(
  {
    ...rules,
    basePrice: Type.Optional(
      money(
        "The price demand is measured against (default: the current base price, or the event's price while it was fixed)",
      ),
    ),
  },
  { additionalProperties: false },
);
export type PricingBody = Static<typeof PricingBody>;

export const SetPricing = Type.Object({ eventId: Uuid, pricing: PricingBody }, { additionalProperties: false });
export type SetPricing = Static<typeof SetPricing>;

/** What GET /v1/events/:id/price answers. */
export const PriceQuote = Type.Object({
  price: Money,
  currency: Currency,
  basePrice: Money,
  strategy: PricingStrategy,
  reason: Type.String({ description: 'Why the price is what it is, for a person' }),
  validUntil: Type.Union([Timestamp, Type.Null()], {
    description: 'Earliest time dynamic pricing may change it; null when only an admin can',
  }),
});
export type PriceQuote = Static<typeof PriceQuote>;

export const PricingPolicy = Type.Object({
  eventId: Uuid,
  strategy: PricingStrategy,
  basePrice: Money,
  floor: Type.Union([Money, Type.Null()]),
  ceiling: Type.Union([Money, Type.Null()]),
  maxStep: Type.Union([Type.Integer(), Type.Null()]),
  intervalSeconds: Type.Integer(),
  price: Money,
  currency: Currency,
  reason: Type.String(),
});
export type PricingPolicy = Static<typeof PricingPolicy>;

export const PriceChange = Type.Object({
  id: Uuid,
  at: Timestamp,
  price: Money,
  previous: Money,
  strategy: PricingStrategy,
  reason: Type.String(),
  version: Type.Integer({ description: 'The event row version the change committed as' }),
});
export type PriceChange = Static<typeof PriceChange>;

export const ListPriceHistory = Type.Object({ eventId: Uuid, ...PageQuery }, { additionalProperties: false });
export type ListPriceHistory = Static<typeof ListPriceHistory>;

export const PriceHistoryPage = Page(PriceChange);
export type PriceHistoryPage = Static<typeof PriceHistoryPage>;
