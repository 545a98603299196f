/**
 * A typed client of the HTTP API: openapi-fetch over the types generated from the service's own
 * OpenAPI document (api-types.ts), so every path, parameter, body and response is checked by the
 * compiler. It imports nothing else from this package: a consumer can use it against a remote
 * service.
 *
 * ```ts
 * const api = createLeasingClient('http://localhost:3001', { apiKey: process.env.API_KEY });
 * const { data, error } = await api.GET('/api/leases/{leaseId}', { params: { path: { leaseId: 'L-1' } } });
 * ```
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types.js';

export type { components as ApiComponents, paths as ApiPaths } from './api-types.js';

/** A record type of the API by its schema name (`ApiSchema<'Lease'>`, `ApiSchema<'ApiError'>`, ...). */
export type ApiSchema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** The client {@link createLeasingClient} returns. */
export type LeasingClient = Client<paths>;

/** Options of {@link createLeasingClient}. */
export interface LeasingClientOptions {
  /** Sent as `Authorization: Bearer <apiKey>` on every request (needed for writes and operational reads when the service has a key). */
  apiKey?: string | undefined;
  /** Headers sent on every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

/** A client of the service at `baseUrl` (e.g. `http://localhost:3001`). */
export function createLeasingClient(baseUrl: string, options: LeasingClientOptions = {}): LeasingClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined) headers['authorization'] = `Bearer ${options.apiKey}`;
  return createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ''), headers, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
}
