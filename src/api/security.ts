/**
 * API-key authentication, CORS and the rate limit of the paid route. Write, admin and operational
 * routes need `Authorization: Bearer <API_KEY>` when a key is configured (always, outside
 * development mode); the paid access route is exempt because the x402 payment is its credential
 * (a lessee has no API key), and is rate-limited per client instead.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { RateLimitConfig } from '../config.js';
import { ApiError, errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A write route callable without the API key (the paid access route). */
    public?: boolean;
    /** An admin or operational route: the API key is required whatever the method. */
    admin?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** True when the Authorization header carries the key (compared in constant time). */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  // Digests have equal lengths, so timingSafeEqual never throws and leaks nothing about length.
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1].trim()), digest(expected));
}

/** Whether a route needs the API key (when one is set): admin routes, and writes other than public ones. */
export function needsApiKey(method: string, config: { admin?: boolean; public?: boolean }): boolean {
  return config.admin === true || (!SAFE_METHODS.has(method) && config.public !== true);
}

/** Installs the API-key check as an onRequest hook (before the body is read). */
export function installAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    if (!needsApiKey(request.method, request.routeOptions.config) || bearerMatches(request.headers.authorization, apiKey)) return;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send(errorBody('UNAUTHORIZED', 'this route needs Authorization: Bearer <API_KEY>'));
  });
}

/**
 * Registers CORS for an exact-origin allow list; nothing when the list is empty. A browser's
 * paid retry carries the payment (`X-PAYMENT` or `PAYMENT-SIGNATURE`) and, from both official
 * x402 clients, an `Access-Control-Expose-Headers` request header, so the preflight must allow
 * all three; the 402 and receipt headers are exposed for the client to read.
 */
export async function installCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'x-payment', 'payment-signature', 'access-control-expose-headers', 'x-request-id'],
    exposedHeaders: ['payment-required', 'payment-response', 'x-payment-response', 'x-request-id'],
    maxAge: 600,
  });
}

/** The paid access route, the one write route anyone may call. */
export const ACCESS_ROUTE = { method: 'POST', url: '/api/leases/:leaseId/access' } as const;

/**
 * Rate-limits the paid access route per client address (behind a proxy, the address
 * X-Forwarded-For names when TRUST_PROXY trusts that proxy): over `max` requests in a window is a
 * 429 RATE_LIMITED with `Retry-After`. Call before the routes are registered.
 */
export async function installAccessRateLimit(app: FastifyInstance, limit: RateLimitConfig): Promise<void> {
  // Before the plugin's own onRoute hook, which reads config.rateLimit as each route is added.
  app.addHook('onRoute', (route) => {
    if (route.url === ACCESS_ROUTE.url && [route.method].flat().includes(ACCESS_ROUTE.method)) {
      route.config = { ...route.config, rateLimit: { max: limit.max, timeWindow: limit.windowMs } };
    }
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, 'RATE_LIMITED', `too many requests: at most ${context.max} per ${limit.windowMs / 1000} s; retry in ${context.after}`, {
        limit: context.max,
        retryAfterSeconds: Math.ceil(context.ttl / 1000),
      }),
  });
}
