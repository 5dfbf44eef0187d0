// Route-level schema pieces shared by the route files: params, the
// idempotency header, and the problem responses OpenAPI should list.
import { Type } from 'typebox';
import { errorCatalogue, Problem, problemType, Uuid, type ErrorCode } from '../../protocol/index.js';

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'Retry-safe key for creating requests' }),
  ),
});

/** Booking an event whose waiting room is on needs the admission the queue ticket carries. */
export const BookingHeaders = Type.Object({
  ...IdempotencyHeaders.properties,
  'evently-admission': Type.Optional(
    Type.String({
      maxLength: 512,
      description: 'Admission token from the waiting room (needed while the event has a room on)',
    }),
  ),
});

export const bearer = [{ bearerAuth: [] }];

const CODES = Object.keys(errorCatalogue) as ErrorCode[];

/** The problem body as the OpenAPI document shows it: `code` is one of the catalogue's. */
export const ProblemBody = Type.Object({
  ...Problem.properties,
  code: Type.Union(
    CODES.map((c) => Type.Literal(c)),
    { description: 'Stable machine code from the error catalogue' },
  ),
});

const codesWith = (status: number) => CODES.filter((c) => errorCatalogue[c].status === status);

function problemResponse(status: number) {
  const codes = codesWith(status);
  const code = codes[0] ?? 'INTERNAL';
  const example = {
    type: problemType(code),
    title: errorCatalogue[code].title,
    status,
    detail: 'what went wrong, for a person',
    code,
    requestId: '3f1c2b9e-5d0a-4c41-9a57-7c2b1d9e8f00',
  };
  return {
    description: `Problem (application/problem+json): ${codes.join(', ')}`,
    content: { 'application/problem+json': { schema: { ...ProblemBody, examples: [example] } } },
  };
}

/** Error responses of a route; 429, 500 and 503 are added to every route by the OpenAPI plugin. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, problemResponse(s)]));
