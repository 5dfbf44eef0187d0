// Every error leaves the edge as application/problem+json with a stable code
// from the catalogue. Fastify's own errors (bad JSON, body too large,
// validation) are mapped here; a 5xx never carries a stack trace.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Socket } from 'node:net';
import type { ErrorObject } from 'ajv';
import { errorCatalogue, problemType, type ErrorCode, type Outcome, type Problem } from '../../protocol/index.js';
import { FORBIDDEN_BODY_KEY } from './json-body.js';
import { trackRoutes } from './method-not-allowed.js';
import { describe, fieldErrors } from './validation-messages.js';

declare module 'fastify' {
  interface FastifyReply {
    /** The problem code this reply carries, if it is an error (read by the audit log). */
    problemCode: ErrorCode | null;
  }
}

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  errors?: Problem['errors'],
): FastifyReply {
  const entry = errorCatalogue[code];
  reply.problemCode = code;
  const body: Problem = {
    type: problemType(code),
    title: entry.title,
    status: entry.status,
    detail,
    code,
    requestId: reply.request.id,
  };
  if (errors) body.errors = errors;
  // An actor's own estimate (sendOutcome) wins over the generic one second.
  if (entry.retryable && entry.status >= 500 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  return reply.code(entry.status).type('application/problem+json').send(body);
}

/** Maps an actor's outcome onto the reply: a value with its status, or a problem. */
export function sendOutcome<T>(reply: FastifyReply, outcome: Outcome<T>): FastifyReply {
  if (outcome.ok) return reply.code(outcome.status).send(outcome.value);
  if (outcome.retryAfter !== undefined) reply.header('retry-after', String(outcome.retryAfter));
  return sendProblem(reply, outcome.code, outcome.detail);
}

const byFastifyCode: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  [FORBIDDEN_BODY_KEY]: 'VALIDATION_FAILED',
};

const byStatus: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
};

/** Fastify's router refusals (a path that is not valid, a parameter too long), as problems. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, _request, reply) =>
  sendProblem(reply, err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URI_TOO_LONG' : 'VALIDATION_FAILED', err.message);

const byClientError: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

/**
 * What Node's HTTP parser refuses before there is a request (headers or URL
 * too large, a timeout, broken HTTP): a problem written straight to the socket.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = byClientError[err.code ?? ''] ?? 'VALIDATION_FAILED';
  const { status, title } = errorCatalogue[code];
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail: 'the HTTP request could not be read',
    code,
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export function installProblems(app: FastifyInstance): void {
  const allowedMethods = trackRoutes(app);
  app.decorateReply('problemCode', null);
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err.validation) {
      const errors = fieldErrors(err.validation as ErrorObject[], err.validationContext);
      return sendProblem(reply, 'VALIDATION_FAILED', describe(errors), errors);
    }
    const code =
      (err.code && byFastifyCode[err.code]) ||
      (err.statusCode && err.statusCode < 500 ? byStatus[err.statusCode] : undefined);
    if (code) return sendProblem(reply, code, err.message);
    request.log.error({ err }, 'unhandled error');
    return sendProblem(reply, 'INTERNAL', 'an internal error occurred; it has been logged');
  });
  app.setNotFoundHandler((request, reply) => {
    const [path = request.url] = request.url.split('?');
    const allow = allowedMethods(path);
    if (allow.length === 0) return sendProblem(reply, 'NOT_FOUND', `no route ${request.method} ${path}`);
    reply.header('allow', allow.join(', '));
    return sendProblem(
      reply,
      'METHOD_NOT_ALLOWED',
      `${path} does not answer ${request.method}; it answers ${allow.join(', ')}`,
    );
  });
}
