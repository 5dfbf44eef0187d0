import { Type, type Static } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from './common.js';

export const RoleSchema = Type.Union([Type.Literal('user'), Type.Literal('staff'), Type.Literal('admin')]);
export const UserStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  createdAt: Timestamp,
});
export type User = Static<typeof User>;

/** A user as an admin sees them: with their status. */
export const AdminUser = Type.Object({ ...User.properties, status: UserStatus });
export type AdminUser = Static<typeof AdminUser>;
export const AdminUserPage = Page(AdminUser);
export type AdminUserPage = Static<typeof AdminUserPage>;

/** What identity answers a sign-in or registration with: the user and the version their token must carry. */
export const Session = Type.Object({ user: User, tokenVersion: Type.Integer({ minimum: 0 }) });
export type Session = Static<typeof Session>;

/** What an edge checks a token against (cached briefly, dropped on a change broadcast). */
export const AccountState = Type.Object({
  userId: Uuid,
  role: RoleSchema,
  status: UserStatus,
  tokenVersion: Type.Integer({ minimum: 0 }),
});
export type AccountState = Static<typeof AccountState>;

export const UserRef = Type.Object({ userId: Uuid }, { additionalProperties: false });
export type UserRef = Static<typeof UserRef>;

/** An edge's token checks of one moment, asked together (a sale's crowd arrives in the same second). */
export const UserRefs = Type.Object(
  { userIds: Type.Array(Uuid, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type UserRefs = Static<typeof UserRefs>;

/** The states of those of the asked users who exist. */
export const AccountStateList = Type.Object({ items: Type.Array(AccountState) });
export type AccountStateList = Static<typeof AccountStateList>;

export const ListUsers = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in email or name' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type ListUsers = Static<typeof ListUsers>;

export const StatusBody = Type.Object({ status: UserStatus }, { additionalProperties: false });
export const RoleBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
export const SetUserStatus = Type.Object({ userId: Uuid, status: UserStatus }, { additionalProperties: false });
export type SetUserStatus = Static<typeof SetUserStatus>;
export const SetUserRole = Type.Object({ userId: Uuid, role: RoleSchema }, { additionalProperties: false });
export type SetUserRole = Static<typeof SetUserRole>;

/** Broadcast (core NATS) when a user's status, role or token version changes; edges drop their cached state. */
export const ACCOUNT_CHANGED_SUBJECT = 'evently.identity.changed';
export const AccountChanged = Type.Object({ userId: Uuid });
export type AccountChanged = Static<typeof AccountChanged>;

export const Register = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 8, maxLength: 200 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type Register = Static<typeof Register>;

export const Login = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type Login = Static<typeof Login>;

export const AuthReply = Type.Object({ token: Type.String(), user: User });
