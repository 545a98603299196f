/**
 * The typed client's source: the OpenAPI document of the service (every route, development mode
 * so the reset route is included; memory backend, as nothing is read) turned into TypeScript by
 * openapi-typescript. `npm run client:generate` writes it to src/client/api-types.ts; a test
 * compares the committed file with a fresh generation, so the client cannot go stale.
 */
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { pino } from 'pino';
import { buildApp } from '../src/api/app.js';
import { testConfig } from '../src/config.js';
import { MockDatabase } from '../src/storage/backends/memory/mock-database.js';

/** The committed file of generated types. */
export const CLIENT_TYPES_PATH = fileURLToPath(new URL('../src/client/api-types.ts', import.meta.url));

const HEADER = `/**
 * The paths, operations and schemas of the HTTP API, generated from its OpenAPI document by
 * openapi-typescript. Do not edit: run \`npm run client:generate\` (a test fails when it is stale).
 */
`;

/** The service's OpenAPI document, as /openapi.json serves it. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const db = new MockDatabase();
  const app = await buildApp({ db, schema: db.schema, config: testConfig({ mode: 'development', apiKey: 'generator' }), logger: pino({ level: 'silent' }) });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** The generated TypeScript source of the client types. */
export async function clientTypes(): Promise<string> {
  const ast = await openapiTS(JSON.parse(JSON.stringify(await openApiDocument())) as Parameters<typeof openapiTS>[0]);
  return HEADER + astToString(ast);
}
