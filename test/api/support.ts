/**
 * Harness of the API tests (backends come from test/support/backends.ts): an app listening on port 0, a small fetch wrapper, and request bodies built from
 * the protocol's sample documents.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildApp, type BuildAppOptions } from '../../src/api/app.js';
import type { App } from '../../src/api/app.js';
import { testConfig, type AppConfig } from '../../src/config.js';
import { createLeasingClient, type ApiPaths, type LeasingClient } from '../../src/client/index.js';

/** Body of POST /api/assets, as the generated client types it. */
export type AssetBody = NonNullable<ApiPaths['/api/assets']['post']['requestBody']>['content']['application/json'];
/** Body of POST /api/leases, as the generated client types it. */
export type LeaseBody = NonNullable<ApiPaths['/api/leases']['post']['requestBody']>['content']['application/json'];
import type { Database, JsonObject, SchemaManager } from '../../src/storage/contract/database.js';

/** The API key the tests configure. */
export const API_KEY = 'test-api-key-0123456789abcdef';
/** The Authorization header carrying {@link API_KEY}. */
export const AUTH = { authorization: `Bearer ${API_KEY}` };

/** A running app and its base URL. */
export interface Running {
  app: App;
  url: string;
  close(): Promise<void>;
}

/** Builds an app (silent logs, API key set, responses checked against their schemas; the store's own schema unless one is given) and listens on port 0. */
export async function startApp(options: Partial<BuildAppOptions> & { db: Database; schema?: SchemaManager; config?: AppConfig }): Promise<Running> {
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    recordRetryDelaysMs: [1, 1],
    // Every answer is checked against its route's documented schema: one it does not describe is a 500.
    validateResponses: true,
    ...options,
    schema: options.schema ?? options.db.schema,
    config: options.config ?? testConfig({ apiKey: API_KEY }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** The typed client (generated from the OpenAPI document) of a running app, with the API key unless `apiKey` is null. */
export function clientOf(running: Running, apiKey: string | null = API_KEY): LeasingClient {
  return createLeasingClient(running.url, apiKey === null ? {} : { apiKey });
}

/** A response, its JSON body parsed when there is one. */
export interface Answer {
  status: number;
  headers: Headers;
  // Tests read arbitrary response fields; a loose type keeps them short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Sends a request; `body` is sent as JSON unless `raw` is given. */
export async function http(
  base: string,
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let payload: string | undefined = init.raw;
  if (init.body !== undefined) {
    payload = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  } else if (init.raw !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON (metrics): keep the text
  }
  return { status: response.status, headers: response.headers, body };
}

/** Decodes a base64 JSON header. */
export function decodeHeader(value: string | null): unknown {
  if (value === null) throw new Error('header missing');
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
}

const SAMPLES = fileURLToPath(new URL('../fixtures/sample-data/', import.meta.url));

/** A sample document of the protocol's public repository. */
export function sample(name: string): JsonObject {
  return JSON.parse(readFileSync(`${SAMPLES}${name}`, 'utf8')) as JsonObject;
}

/** The sample lease's lessor, who is paid. */
export const LESSOR = '0x742d35Cc6511C84a92A30A7D7B0D6E1234567890';
/** The sample lease's lessee. */
export const LESSEE = '0x123d35Cc6511C84a92A30A7D7B0D6E1987654321';
const hex64 = (digit: string) => `0x${digit.repeat(64)}`;

/** A POST /api/assets body with a real asset document as metadata. */
export function assetBody(assetId: string, tokenAddress = '0x00000000000000000000000000000000000000a1'): AssetBody {
  return {
    assetId,
    chainId: 84532,
    contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    tokenAddress,
    metadata: { ...sample('assets-satellite-alpha-1.json'), assetId },
    metadataHash: hex64('a'),
    blockNumber: 12,
    transactionHash: hex64('b'),
  };
}

/**
 * A lease agreement from the sample lease, priced 3,600 tokens (18 decimals) an hour so every
 * interval costs the same (1,000,000 minor units a second), valid from yesterday to tomorrow.
 */
export function agreement(leaseId: string, assetId: string, overrides: Record<string, unknown> = {}): JsonObject {
  const base = sample('leases-lease-sat-alpha-1-001.json');
  const terms = base['terms'] as JsonObject;
  const day = 86_400_000;
  return {
    ...base,
    leaseId,
    assetId,
    terms: {
      ...terms,
      startDate: new Date(Date.now() - day).toISOString(),
      endDate: new Date(Date.now() + day).toISOString(),
      paymentAmount: '3600000000000000000000',
      ...overrides,
    },
  } as JsonObject;
}

/** A POST /api/leases body. */
export function leaseBody(leaseId: string, assetId: string, terms: Record<string, unknown> = {}): LeaseBody {
  return {
    leaseId,
    assetId,
    chainId: 84532,
    contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    lessor: LESSOR,
    lessee: LESSEE,
    agreement: agreement(leaseId, assetId, terms),
    transactionHash: hex64('c'),
  };
}

/** Creates an asset and an active lease through the API. */
export async function activeLease(base: string, assetId: string, leaseId: string, terms: Record<string, unknown> = {}): Promise<void> {
  const asset = await http(base, 'POST', '/api/assets', { body: assetBody(assetId), headers: AUTH });
  if (asset.status !== 201 && asset.status !== 409) throw new Error(`asset: ${asset.status} ${JSON.stringify(asset.body)}`);
  const lease = await http(base, 'POST', '/api/leases', { body: leaseBody(leaseId, assetId, terms), headers: AUTH });
  if (lease.status !== 201) throw new Error(`lease: ${lease.status} ${JSON.stringify(lease.body)}`);
  const active = await http(base, 'PATCH', `/api/leases/${leaseId}/status`, { body: { status: 'active' }, headers: AUTH });
  if (active.status !== 200) throw new Error(`activate: ${active.status}`);
}
