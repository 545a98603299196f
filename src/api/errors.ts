/**
 * The one error format of the API, `{ "error": { "code", "message", "details" } }`, and the
 * mapping of every failure to it: storage codes to statuses, fastify's own errors (validation,
 * JSON, body size) to 4xx, anything unexpected to a 500 that reveals nothing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStorageError, type StorageErrorCode } from '../storage/contract/errors.js';

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/** An error a route raises on purpose, with its status and stable code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** HTTP status of each storage error code. */
export const STORAGE_STATUS: Readonly<Record<StorageErrorCode, number>> = {
  VALIDATION: 400,
  NOT_FOUND: 404,
  DUPLICATE: 409,
  CONFLICT: 409,
  REFERENCE_NOT_FOUND: 422,
  CONNECTION: 503,
  TIMEOUT: 503,
  NOT_CONNECTED: 503,
  INTERNAL: 500,
};

/** Builds an error body. */
export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

/** A 404 for a missing record. */
export function notFound(what: string, key: Record<string, unknown>): ApiError {
  return new ApiError(404, 'NOT_FOUND', `${what} not found`, key);
}

/** Status, headers and body for any thrown value. */
export function describeError(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof ApiError) {
    return { status: error.statusCode, body: errorBody(error.code, error.message, error.details), headers: {} };
  }
  if (isStorageError(error)) {
    const status = STORAGE_STATUS[error.code];
    // Storage messages are written to be safe to show (no secrets); INTERNAL ones are still hidden
    // because they describe our own defects, not the caller's request.
    const message = error.code === 'INTERNAL' ? 'internal error' : error.message;
    const details = error.code === 'INTERNAL' ? {} : (error.details ?? {});
    const headers: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
    return { status, body: errorBody(error.code, message, details), headers };
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  if (fastifyError?.validation) {
    const issues = fastifyError.validation.map((v) => ({
      field: `${fastifyError.validationContext ?? ''}${v.instancePath}`.replace(/\//g, '.'),
      message: v.message ?? 'is invalid',
      ...(v.keyword === 'additionalProperties' ? { property: (v.params as { additionalProperty?: string }).additionalProperty } : {}),
    }));
    return { status: 400, body: errorBody('VALIDATION', fastifyError.message ?? 'invalid request', { issues }), headers: {} };
  }
  const code = fastifyError?.code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, body: errorBody('MALFORMED_JSON', 'the request body is not valid JSON'), headers: {} };
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: errorBody('PAYLOAD_TOO_LARGE', 'the request body exceeds the 1 MB limit'), headers: {} };
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: errorBody('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'), headers: {} };
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: errorBody(code ?? 'BAD_REQUEST', fastifyError?.message ?? 'bad request'), headers: {} };
  }
  return { status: 500, body: errorBody('INTERNAL', 'internal error'), headers: {} };
}

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, headers } = describeError(error);
    // Server faults are logged with the error (stack included) but never sent to the client.
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, status }, 'request refused');
    void reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 200);
    void reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${path}`));
  });
}
