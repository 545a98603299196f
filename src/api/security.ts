/**
 * API-key authentication and CORS. Write and admin routes need `Authorization: Bearer <API_KEY>`
 * when a key is configured; the paid access route is exempt because the x402 payment is its
 * credential (a lessee has no API key).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A write route callable without the API key (the paid access route). */
    public?: boolean;
    /** An admin route: the API key is required whatever the method. */
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

/** Installs the API-key check as an onRequest hook (before the body is read). */
export function installAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const config = request.routeOptions.config;
    const needsKey = config.admin === true || (!SAFE_METHODS.has(request.method) && config.public !== true);
    if (!needsKey || bearerMatches(request.headers.authorization, apiKey)) return;
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
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'x-payment', 'payment-signature', 'access-control-expose-headers', 'x-request-id'],
    exposedHeaders: ['payment-required', 'payment-response', 'x-payment-response', 'x-request-id'],
    maxAge: 600,
  });
}
