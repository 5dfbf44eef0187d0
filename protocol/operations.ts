// Every subject an actor answers, declared once. The edge sends with
// subjectFor(); the actor subscribes with subscriptionsFor(). Event-scoped
// operations go to the event's shard so that one actor thread owns the row
// and can batch; the rest go to the kind's "any" subject, load-balanced by
// the NATS queue group.
import type { Static, TSchema } from 'typebox';
import { Empty, Pong } from './schemas/common.js';
import { CreateEvent, Event, EventPage, EventRef, ListEvents, UpdateEvent } from './schemas/events.js';
import { Book, Booking, BookingPage, BookingRef, ListBookings } from './schemas/bookings.js';
import {
  AccountState,
  AccountStateList,
  AdminUser,
  AdminUserPage,
  ListUsers,
  Login,
  Register,
  Session,
  SetUserRole,
  SetUserStatus,
  UserRef,
  UserRefs,
} from './schemas/accounts.js';
import { AuditPage, ListAudit } from './schemas/audit.js';
import { ListPriceHistory, PriceHistoryPage, PriceQuote, PricingPolicy, SetPricing } from './schemas/pricing.js';
import {
  DeadLetterPage,
  DeliveryRef,
  ListDeadLetters,
  MailDelivery,
  MailPreview,
  PreviewMail,
  ResendReply,
} from './schemas/mail.js';
import { AnalyticsSummary, EventAnalytics } from './schemas/analytics.js';
import {
  DailyReport,
  DailyReportQuery,
  ExportBookings,
  ExportStarted,
  RebuildAnalytics,
  RebuildResult,
} from './schemas/analytics-admin.js';
import {
  CheckinResult,
  EventBatch,
  BatchResults,
  CheckinFigures,
  KeyList,
  ListRevoked,
  RevokedList,
  Scan,
  TicketList,
  TicketsQuery,
} from './schemas/checkin.js';
import {
  CreateWebhook,
  ListWebhookDeliveries,
  ListWebhooks,
  UpdateWebhook,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookDeliveryRef,
  WebhookPage,
  WebhookRef,
  WebhookWithSecret,
} from './schemas/webhooks.js';
import {
  Positions,
  PositionsQuery,
  QueueTicket,
  Room,
  RoomIds,
  RoomList,
  RoomState,
  SetRoom,
} from './schemas/waitroom.js';
import {
  ExpiredHolds,
  Hold,
  HoldLookup,
  HoldRef,
  JoinWaitlist,
  ListWaitlist,
  SetPriority,
  WaitlistEntry,
  WaitlistPage,
} from './schemas/waitlist.js';
import { SUBJECT_ROOT } from './subject-root.js';

export { SUBJECT_ROOT };

/** Every actor kind; `operations` below must give each one its operations (and a ping). */
export const ACTOR_KINDS = [
  'inventory',
  'identity',
  'waitlist',
  'audit',
  'pricing',
  'mailer',
  'analytics',
  'checkin',
  'webhooks',
  'waitroom',
] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];
export type Scope = 'shard' | 'any';

export interface Operation<Req extends TSchema = TSchema, Rep extends TSchema = TSchema> {
  readonly actor: ActorKind;
  readonly name: string;
  readonly scope: Scope;
  readonly request: Req;
  readonly reply: Rep;
}

const op = <Req extends TSchema, Rep extends TSchema>(
  actor: ActorKind,
  name: string,
  scope: Scope,
  request: Req,
  reply: Rep,
): Operation<Req, Rep> => Object.freeze({ actor, name, scope, request, reply });

export const inventory = {
  createEvent: op('inventory', 'events.create', 'any', CreateEvent, Event),
  listEvents: op('inventory', 'events.list', 'any', ListEvents, EventPage),
  getEvent: op('inventory', 'events.get', 'shard', EventRef, Event),
  updateEvent: op('inventory', 'events.update', 'shard', UpdateEvent, Event),
  cancelEvent: op('inventory', 'events.cancel', 'shard', EventRef, Event),
  book: op('inventory', 'bookings.create', 'shard', Book, Booking),
  getBooking: op('inventory', 'bookings.get', 'any', BookingRef, Booking),
  listBookings: op('inventory', 'bookings.list', 'any', ListBookings, BookingPage),
  cancelBooking: op('inventory', 'bookings.cancel', 'any', BookingRef, Booking),
  confirmHold: op('inventory', 'holds.confirm', 'any', HoldRef, Booking),
  /** The hold page: what is held and until when. */
  getHold: op('inventory', 'holds.get', 'any', HoldLookup, Hold),
  ping: op('inventory', 'ping', 'shard', Empty, Pong),
} as const;

export const identity = {
  register: op('identity', 'accounts.register', 'any', Register, Session),
  login: op('identity', 'accounts.login', 'any', Login, Session),
  /** The edge's token checks: status, role and token version of each user asked (absent = no such user). */
  states: op('identity', 'accounts.states', 'any', UserRefs, AccountStateList),
  /**
   * One user's state: what edges of the previous release ask. Still answered so that a rolling upgrade
   * (new identity, old edges) does not turn every token into "no such user"; no current edge calls it.
   */
  state: op('identity', 'accounts.state', 'any', UserRef, AccountState),
  list: op('identity', 'accounts.list', 'any', ListUsers, AdminUserPage),
  setStatus: op('identity', 'accounts.status', 'any', SetUserStatus, AdminUser),
  setRole: op('identity', 'accounts.role', 'any', SetUserRole, AdminUser),
  ping: op('identity', 'ping', 'any', Empty, Pong),
} as const;

export const waitlist = {
  join: op('waitlist', 'entries.join', 'shard', JoinWaitlist, WaitlistEntry),
  mine: op('waitlist', 'entries.mine', 'shard', EventRef, WaitlistEntry),
  leave: op('waitlist', 'entries.leave', 'shard', EventRef, Empty),
  list: op('waitlist', 'entries.list', 'shard', ListWaitlist, WaitlistPage),
  setPriority: op('waitlist', 'entries.priority', 'shard', SetPriority, WaitlistEntry),
  /** The scheduler's backstop: expire the event's overdue holds on the thread that owns its shard. */
  expireHolds: op('waitlist', 'holds.expire', 'shard', EventRef, ExpiredHolds),
  ping: op('waitlist', 'ping', 'shard', Empty, Pong),
} as const;

export const audit = {
  list: op('audit', 'records.list', 'any', ListAudit, AuditPage),
  ping: op('audit', 'ping', 'any', Empty, Pong),
} as const;

export const pricing = {
  quote: op('pricing', 'price.get', 'shard', EventRef, PriceQuote),
  setPolicy: op('pricing', 'policy.set', 'shard', SetPricing, PricingPolicy),
  history: op('pricing', 'history.list', 'shard', ListPriceHistory, PriceHistoryPage),
  ping: op('pricing', 'ping', 'shard', Empty, Pong),
} as const;

export const mailer = {
  preview: op('mailer', 'templates.preview', 'any', PreviewMail, MailPreview),
  deadLetters: op('mailer', 'dead-letters.list', 'any', ListDeadLetters, DeadLetterPage),
  retry: op('mailer', 'dead-letters.retry', 'any', DeliveryRef, MailDelivery),
  /** The booking's owner asks for the confirmation mail (with its QR codes) again. */
  resendTickets: op('mailer', 'tickets.resend', 'any', BookingRef, ResendReply),
  ping: op('mailer', 'ping', 'any', Empty, Pong),
} as const;

// Endpoint admin goes to any webhooks thread: the rows are shared, no shard owns them.
export const webhooks = {
  create: op('webhooks', 'endpoints.create', 'any', CreateWebhook, WebhookWithSecret),
  list: op('webhooks', 'endpoints.list', 'any', ListWebhooks, WebhookPage),
  get: op('webhooks', 'endpoints.get', 'any', WebhookRef, Webhook),
  update: op('webhooks', 'endpoints.update', 'any', UpdateWebhook, Webhook),
  remove: op('webhooks', 'endpoints.delete', 'any', WebhookRef, Empty),
  rotateSecret: op('webhooks', 'endpoints.rotate-secret', 'any', WebhookRef, WebhookWithSecret),
  deliveries: op('webhooks', 'deliveries.list', 'any', ListWebhookDeliveries, WebhookDeliveryPage),
  retry: op('webhooks', 'deliveries.retry', 'any', WebhookDeliveryRef, WebhookDelivery),
  ping: op('webhooks', 'ping', 'any', Empty, Pong),
} as const;

// Reads and rebuilds go to any analytics thread: they are not tied to a shard's consumers.
export const analytics = {
  summary: op('analytics', 'figures.summary', 'any', Empty, AnalyticsSummary),
  event: op('analytics', 'figures.event', 'any', EventRef, EventAnalytics),
  /** The summary of one UTC day: the hook the scheduled report mail calls. */
  dailyReport: op('analytics', 'reports.daily', 'any', DailyReportQuery, DailyReport),
  rebuild: op('analytics', 'rollups.rebuild', 'any', RebuildAnalytics, RebuildResult),
  exportBookings: op('analytics', 'exports.bookings', 'any', ExportBookings, ExportStarted),
  ping: op('analytics', 'ping', 'any', Empty, Pong),
} as const;

// Scans go to the shard of the event the code names, so one thread owns an event's door.
export const checkin = {
  scan: op('checkin', 'scans.one', 'shard', Scan, CheckinResult),
  batch: op('checkin', 'scans.batch', 'shard', EventBatch, BatchResults),
  revoked: op('checkin', 'revoked.list', 'shard', ListRevoked, RevokedList),
  figures: op('checkin', 'figures.get', 'shard', EventRef, CheckinFigures),
  tickets: op('checkin', 'tickets.list', 'any', TicketsQuery, TicketList),
  keys: op('checkin', 'keys.list', 'any', Empty, KeyList),
  rotateKey: op('checkin', 'keys.rotate', 'any', Empty, KeyList),
  ping: op('checkin', 'ping', 'shard', Empty, Pong),
} as const;

// The waiting room of an event lives on the thread that owns the event's shard; the room list and
// the admin overview go to any thread (they read Postgres).
export const waitroom = {
  setRoom: op('waitroom', 'rooms.set', 'shard', SetRoom, Room),
  removeRoom: op('waitroom', 'rooms.remove', 'shard', EventRef, Empty),
  roomState: op('waitroom', 'rooms.state', 'shard', EventRef, RoomState),
  rooms: op('waitroom', 'rooms.list', 'any', Empty, RoomList),
  /** Event ids with a room on: what an edge loads at start to guard the booking route. */
  roomIds: op('waitroom', 'rooms.ids', 'any', Empty, RoomIds),
  join: op('waitroom', 'tickets.join', 'shard', EventRef, QueueTicket),
  mine: op('waitroom', 'tickets.mine', 'shard', EventRef, QueueTicket),
  leave: op('waitroom', 'tickets.leave', 'shard', EventRef, Empty),
  positions: op('waitroom', 'tickets.positions', 'shard', PositionsQuery, Positions),
  ping: op('waitroom', 'ping', 'shard', Empty, Pong),
} as const;

export const operations = {
  inventory,
  identity,
  waitlist,
  audit,
  pricing,
  mailer,
  analytics,
  checkin,
  webhooks,
  waitroom,
} as const satisfies Record<ActorKind, Record<string, Operation> & { ping: Operation }>;

/** The operations of one kind, by their name in the catalogue (`book`, not the subject's `bookings.create`). */
export type OperationsOf<K extends ActorKind> = (typeof operations)[K];
export type RequestOf<O extends Operation> = Static<O['request']>;
export type ReplyOf<O extends Operation> = Static<O['reply']>;

/** One value per actor kind, in catalogue order. */
export const byKind = <T>(value: (kind: ActorKind) => T): Record<ActorKind, T> =>
  Object.fromEntries(ACTOR_KINDS.map((kind) => [kind, value(kind)])) as Record<ActorKind, T>;

const isKind = (name: string): name is ActorKind => (ACTOR_KINDS as readonly string[]).includes(name);

/** The subject one request travels on. Shard-scoped operations need the shard. */
export function subjectFor(operation: Operation, shard?: number): string {
  if (operation.scope === 'shard') {
    if (shard === undefined) throw new Error(`${operation.actor}.${operation.name} needs a shard`);
    return `${SUBJECT_ROOT}.${operation.actor}.${shard}.${operation.name}`;
  }
  return `${SUBJECT_ROOT}.${operation.actor}.any.${operation.name}`;
}

/** Wildcard subjects an actor thread owning `shards` subscribes to (with the kind's queue group). */
export function subscriptionsFor(actor: ActorKind, shards: readonly number[]): string[] {
  return [...shards.map((shard) => `${SUBJECT_ROOT}.${actor}.${shard}.>`), `${SUBJECT_ROOT}.${actor}.any.>`];
}

/** Finds the operation a received subject names, and the shard it was sent to. */
export function parseSubject(subject: string): { operation: Operation; shard: number | null } | undefined {
  const [root, actor, scope, ...rest] = subject.split('.');
  if (root !== SUBJECT_ROOT || actor === undefined || !isKind(actor)) return undefined;
  const operation = Object.values<Operation>(operations[actor]).find((o) => o.name === rest.join('.'));
  if (!operation) return undefined;
  const shard = scope === 'any' ? null : Number(scope);
  if ((operation.scope === 'any') !== (shard === null)) return undefined;
  return { operation, shard };
}

export const queueGroup = (actor: ActorKind): string => `${SUBJECT_ROOT}.${actor}`;
