import { Type, type Static } from 'typebox';
import { Timestamp, Uuid } from './common.js';

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('staff'), Type.Literal('admin')]),
  createdAt: Timestamp,
});
export type User = Static<typeof User>;

export const Register = Type.Object({
  email: Email,
  password: Type.String({ minLength: 8, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false });
export type Register = Static<typeof Register>;

export const Login = Type.Object({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false });
export type Login = Static<typeof Login>;

export const AuthReply = Type.Object({ token: Type.String(), user: User });
