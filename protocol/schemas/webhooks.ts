// Outgoing webhooks (Standard Webhooks): what admins send and get back when
// they register endpoints, rotate secrets and read or retry deliveries. The
// public event types are the domain event types a receiver can use, or '*'.
import { Type, type Static } from 'typebox';
import type { DomainEventType } from '../domain-events.js';
import { Page, PageQuery, Timestamp, Uuid } from './common.js';

/**
 * Domain events a webhook endpoint may subscribe to. Left out: the waitlist's
 * position fan-out (noise outside Evently) and the scheduler's reminder ticks.
 */
export const WEBHOOK_EVENT_TYPES = [
  'event.created',
  'event.updated',
  'event.cancelled',
  'booking.confirmed',
  'booking.cancelled',
  'seats.released',
  'hold.created',
  'hold.expired',
  'hold.released',
  'hold.confirmed',
  'waitlist.joined',
  'waitlist.changed',
  'price.changed',
] as const satisfies readonly DomainEventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WebhookEventName = Type.Union(
  [...WEBHOOK_EVENT_TYPES, '*'].map((t) => Type.Literal(t)),
  {
    description: `A domain event type (${WEBHOOK_EVENT_TYPES.join(', ')}) or * for all of them`,
  },
);
const Events = Type.Array(WebhookEventName, { minItems: 1, maxItems: 32, uniqueItems: true });
const Url = Type.String({
  minLength: 8,
  maxLength: 2000,
  pattern: '^https?://',
  description: 'http:// or https:// URL the deliveries are POSTed to',
});
const Description = Type.String({ maxLength: 500 });

export const CreateWebhook = Type.Object(
  {
    url: Url,
    events: Events,
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type CreateWebhook = Static<typeof CreateWebhook>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Type.Union([Description, Type.Null()])),
    enabled: Type.Optional(
      Type.Boolean({ description: 'true enables a disabled endpoint again; its owed deliveries resume' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const UpdateWebhook = Type.Object(
  { id: Uuid, ...UpdateWebhookBody.properties },
  { additionalProperties: false },
);
export type UpdateWebhook = Static<typeof UpdateWebhook>;

export const WebhookRef = Type.Object({ id: Uuid }, { additionalProperties: false });
export type WebhookRef = Static<typeof WebhookRef>;

export const Webhook = Type.Object({
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  disabledReason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why Evently disabled it (gone, failing), or null',
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Webhook = Static<typeof Webhook>;

/** Create and rotate answer the secret, once: it is never shown again. */
export const WebhookWithSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ pattern: '^whsec_', description: 'Signing secret (whsec_ + base64 key); shown only here' }),
  previousSecretExpiresAt: Type.Optional(
    Type.Union([Timestamp, Type.Null()], {
      description: 'Until then deliveries carry a signature with the previous secret too',
    }),
  ),
});
export type WebhookWithSecret = Static<typeof WebhookWithSecret>;

export const ListWebhooks = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListWebhooks = Static<typeof ListWebhooks>;
export const WebhookPage = Page(Webhook);
export type WebhookPage = Static<typeof WebhookPage>;

export const WebhookDeliveryStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivered'),
  Type.Literal('failed'),
  Type.Literal('dead'),
]);

export const WebhookDelivery = Type.Object({
  id: Uuid,
  eventType: Type.String(),
  status: WebhookDeliveryStatus,
  attempts: Type.Integer({ minimum: 0 }),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastResponse: Type.Union([Type.String(), Type.Null()], {
    description: 'The start (at most 1 KiB) of the last response body',
  }),
  nextAttemptAt: Type.Union([Timestamp, Type.Null()], { description: 'null once delivered or dead' }),
  deliveredAt: Type.Union([Timestamp, Type.Null()]),
  domainEventId: Uuid,
  eventId: Uuid,
  version: Type.Integer(),
  createdAt: Timestamp,
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const DeliveriesQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(WebhookDeliveryStatus) },
  { additionalProperties: false },
);
export const ListWebhookDeliveries = Type.Object(
  { id: Uuid, ...DeliveriesQuery.properties },
  { additionalProperties: false },
);
export type ListWebhookDeliveries = Static<typeof ListWebhookDeliveries>;
export const WebhookDeliveryPage = Page(WebhookDelivery);
export type WebhookDeliveryPage = Static<typeof WebhookDeliveryPage>;

export const WebhookDeliveryRef = Type.Object({ id: Uuid, deliveryId: Uuid }, { additionalProperties: false });
export type WebhookDeliveryRef = Static<typeof WebhookDeliveryRef>;
