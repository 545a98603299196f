/**
 * The OpenAPI 3.1 document, built by @fastify/swagger from the routes' own schemas (so it cannot
 * describe another API than the one served), at `/openapi.json`, and Swagger UI at `/docs` with
 * its assets served from the package (no CDN). Security is derived from the same rule the
 * API-key check applies (security.ts): admin routes and writes other than the paid route.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { packageInfo } from '../package-info.js';
import { needsApiKey } from './security.js';

/** Where the document is served. */
export const OPENAPI_PATH = '/openapi.json';
/** Where the interactive reference is served. */
export const DOCS_PATH = '/docs';

const DESCRIPTION = [
  'Offchain data layer of the Asset Leasing Protocol: assets, leases, contract events, x402 streaming payments and their hourly settlement batches.',
  '',
  'Amounts are USDC minor units as decimal strings. Every error has one shape: `{ "error": { "code", "message", "details" } }`.',
  'Routes marked with a lock need `Authorization: Bearer <API_KEY>` when the service has a key (always outside development mode).',
  'The paid route `POST /api/leases/{leaseId}/access` is public: its x402 payment (`X-PAYMENT` v1 or `PAYMENT-SIGNATURE` v2) is the credential.',
].join('\n');

/** Registers the document and the reference; call before the routes are registered. */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  const { version } = packageInfo();
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Asset Leasing offchain store API', version, description: DESCRIPTION },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'The API_KEY the service was started with' },
        },
      },
      tags: [
        { name: 'system', description: 'Health, status, reconcile, metrics and live activity' },
        { name: 'assets', description: 'Registered assets' },
        { name: 'leases', description: 'Leases and their lifecycle' },
        { name: 'events', description: 'Contract events' },
        { name: 'ledger', description: 'Payments, hourly batches and revenue' },
        { name: 'x402', description: 'Quotes and paid access (HTTP 402)' },
        { name: 'admin', description: 'Operator actions' },
      ],
    },
    // Named schemas become components under their own $id (not def-0, def-1...).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const methods = [route.method].flat();
      const secured = methods.some((method) => needsApiKey(method, route.config ?? {}));
      return { schema: { ...schema, ...(secured ? { security: [{ apiKey: [] }] } : {}) } as FastifySchema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PATH, uiConfig: { deepLinking: true, persistAuthorization: false } });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
