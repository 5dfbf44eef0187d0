// What the mailer answers: template previews for admins, and the dead-letter
// store (mails whose every attempt failed) that operators read and retry.
import { Type, type Static } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from './common.js';

export const MailTemplateName = Type.String({
  pattern: '^[a-z][a-z0-9-]{0,63}$',
  description: 'A template of the mailer, e.g. booking-confirmed',
});

export const PreviewFormat = Type.Union([Type.Literal('html'), Type.Literal('text'), Type.Literal('json')], {
  description: 'html or text: that part as it would be sent; json: subject and both parts',
  default: 'html',
});

export const PreviewQuery = Type.Object({ format: Type.Optional(PreviewFormat) }, { additionalProperties: false });
export const PreviewParams = Type.Object({ template: MailTemplateName }, { additionalProperties: false });

export const PreviewMail = Type.Object({ template: MailTemplateName }, { additionalProperties: false });
export type PreviewMail = Static<typeof PreviewMail>;

/** One template rendered with its sample data. */
export const MailPreview = Type.Object({
  template: Type.String(),
  subject: Type.String(),
  html: Type.String(),
  text: Type.String(),
});
export type MailPreview = Static<typeof MailPreview>;

export const MailStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sent'),
  Type.Literal('dead'),
  Type.Literal('skipped'),
]);

export const MailDelivery = Type.Object({
  id: Uuid,
  template: Type.String(),
  status: MailStatus,
  domainEventId: Type.String({ description: 'The domain event that caused the mail' }),
  eventId: Type.Union([Uuid, Type.Null()]),
  userId: Type.Union([Uuid, Type.Null()]),
  recipient: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer({ minimum: 0 }),
  nextAttemptAt: Timestamp,
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'Why the last attempt failed' }),
  skipReason: Type.Union([Type.String(), Type.Null()]),
  provider: Type.Union([Type.String(), Type.Null()], { description: 'sendgrid or smtp, once sent' }),
  messageId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type MailDelivery = Static<typeof MailDelivery>;

export const ListDeadLetters = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListDeadLetters = Static<typeof ListDeadLetters>;

export const DeadLetterPage = Page(MailDelivery);
export type DeadLetterPage = Static<typeof DeadLetterPage>;

export const DeliveryRef = Type.Object({ deliveryId: Uuid }, { additionalProperties: false });
export type DeliveryRef = Static<typeof DeliveryRef>;

/** What re-sending a booking's confirmation mail answers: it is planned, and goes out like any mail. */
export const ResendReply = Type.Object({ queued: Type.Boolean() });
export type ResendReply = Static<typeof ResendReply>;
