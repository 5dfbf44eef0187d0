// Route-level schema pieces shared by the route files: params, the
// idempotency header, and the problem responses OpenAPI should list.
import { Type } from 'typebox';
import { Problem, Uuid } from '../../actors/protocol/index.js';

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Retry-safe key for creating requests' })),
});

export const bearer = [{ bearerAuth: [] }];

export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { ...Problem, description: 'application/problem+json' }]));
