/**
 * The one error format of the API, `{ "error": { "code", "message", "details" } }`, and the
 * mapping of every failure to it: storage codes to statuses (TIMEOUT names its reason in
 * `details.reason`: lock_timeout and pool_exhausted are 503, statement_timeout 504, both with
 * Retry-After); fastify's and Node's own refusals
 * (validation, JSON, body size, media type, unknown route or method, bad or long URL, malformed
 * HTTP, rate limit) to 4xx; anything unexpected to a 500 that reveals nothing.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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

/**
 * The status of a storage error: its code's, except a statement timeout, which is 504 (the
 * database did not answer in time) rather than 503 (it cannot take the request now: a lock, a
 * full pool, no connection).
 */
export function storageStatus(code: StorageErrorCode, reason: string | undefined): number {
  return code === 'TIMEOUT' && reason === 'statement_timeout' ? 504 : STORAGE_STATUS[code];
}

/** Seconds a client should wait before resending a request refused with a retryable 503/504. */
export const RETRY_AFTER_SECONDS = 1;

/** Builds an error body. */
export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

/** A 404 for a missing record. */
export function notFound(what: string, key: Record<string, unknown>): ApiError {
  return new ApiError(404, 'NOT_FOUND', `${what} not found`, key);
}

/** Longest request URL (path and query) served; longer is a 414. */
export const MAX_URL_LENGTH = 8 * 1024;

/** The stable code of a 4xx fastify or Node raises without one of ours. */
const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

/** Status, headers and body for any thrown value. */
export function describeError(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof ApiError) {
    return { status: error.statusCode, body: errorBody(error.code, error.message, error.details), headers: {} };
  }
  if (isStorageError(error)) {
    const status = storageStatus(error.code, error.reason);
    // Storage messages are written to be safe to show (no secrets); INTERNAL ones are still hidden
    // because they describe our own defects, not the caller's request.
    const message = error.code === 'INTERNAL' ? 'internal error' : error.message;
    const details = error.code === 'INTERNAL' ? {} : (error.details ?? {});
    // 503 and 504 are both "try again": the client is told when (RFC 9110, Retry-After).
    const headers: Record<string, string> = status === 503 || status === 504 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {};
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
  const plain = (status: number, errorCode: string, message: string) => ({ status, body: errorBody(errorCode, message), headers: {} });
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    return plain(400, 'MALFORMED_JSON', 'the request body is not valid JSON');
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return plain(413, 'PAYLOAD_TOO_LARGE', 'the request body exceeds the 1 MB limit');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return plain(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  // A path that is not valid percent-encoded UTF-8 (a lone surrogate can only arrive that way).
  if (code === 'FST_ERR_BAD_URL') return plain(400, 'VALIDATION', 'the URL is not valid percent-encoded UTF-8');
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return plain(414, 'URI_TOO_LONG', 'a path segment of the URL is too long');
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's message, under a stable code of ours rather than its internal FST_ERR_* name.
    return plain(status, CODE_OF_STATUS[status] ?? 'BAD_REQUEST', fastifyError?.message ?? 'bad request');
  }
  return plain(500, 'INTERNAL', 'internal error');
}

/** Sends `error` in the one format (logged: server faults with their stack, refusals briefly). */
function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, headers } = describeError(error);
  // Server faults are logged with the error (stack included) but never sent to the client.
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.error.code, status }, 'request refused');
  void reply.code(status).headers(headers).send(body);
}

/**
 * fastify's `frameworkErrors` option: the errors its router raises before any route or hook runs
 * (a path that is not valid percent-encoding, a path segment over the router's limit).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(error, request, reply);
}

/**
 * Whether Node's header overflow is in the request line (the URL) rather than in the headers,
 * judged from the bytes it could not parse: a request line without its end, a long one, or the
 * end of one (a later chunk of a long URL).
 */
function inRequestLine(raw: unknown): boolean {
  if (!Buffer.isBuffer(raw)) return false;
  const end = raw.indexOf('\r\n');
  const first = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
  if (end === -1) return /^[A-Z]+ \//.test(first);
  if (/^[A-Z]+ \S+ HTTP\/\d\.\d$/.test(first)) return first.length > MAX_URL_LENGTH;
  return / HTTP\/\d\.\d$/.test(first);
}

/**
 * fastify's `clientErrorHandler` option: a request Node itself refuses before fastify sees it
 * (not HTTP, a request line or headers over Node's 16 KiB, a client too slow) gets the one format
 * too, written straight to the socket, which is then closed.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let message = 'the request is not valid HTTP';
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') [status, message] = [408, 'the request took too long to arrive'];
  else if (error.code === 'HPE_HEADER_OVERFLOW') {
    [status, message] = inRequestLine(error.rawPacket) ? [414, `the URL exceeds ${MAX_URL_LENGTH} bytes`] : [431, 'the request headers are too large'];
  }
  if (socket.writable) {
    const text = JSON.stringify(errorBody(CODE_OF_STATUS[status] ?? 'BAD_REQUEST', message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

/** `/api/leases/:leaseId/access` as a pattern over a request path. */
function routePattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Installs the error and not-found handlers on the root instance, and the request checks fastify
 * does not make itself: a URL over {@link MAX_URL_LENGTH} is a 414, a URL that is not valid
 * percent-encoded UTF-8 (in its query too) a 400, a known path with another method a 405.
 * Call it before the routes are registered (it learns their paths as they are).
 */
export function installErrorHandlers(app: FastifyInstance): void {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    routes.push({ pattern: routePattern(route.url), methods: [route.method].flat() });
  });
  app.addHook('onRequest', async (request, reply) => {
    const url = request.raw.url ?? '';
    if (url.length > MAX_URL_LENGTH) {
      return reply.code(414).send(errorBody('URI_TOO_LONG', `the URL exceeds ${MAX_URL_LENGTH} bytes`));
    }
    try {
      decodeURIComponent(url);
    } catch {
      // fastify's query parser would keep such a value undecoded or replace it with U+FFFD.
      return reply.code(400).send(errorBody('VALIDATION', 'the URL is not valid percent-encoded UTF-8'));
    }
    return undefined;
  });
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 200);
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].sort();
    if (allowed.length > 0) {
      void reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`, { allowed }));
      return;
    }
    void reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${path}`));
  });
}
