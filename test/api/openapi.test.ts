/**
 * The OpenAPI document and the typed client: every route the app registers is in the document
 * with its responses (the error shape included) and its security; the paid route documents the
 * x402 headers and its 402; a route answering what its schema does not describe fails (response
 * validation, on in every API test); /docs is served from the package; and the committed client
 * types equal a fresh generation.
 */
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { testConfig } from '../../src/config.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { CLIENT_TYPES_PATH, clientTypes } from '../../scripts/client-types.js';
import { API_KEY, type Running, http, startApp } from './support.js';
import { pino } from 'pino';

type Operation = { security?: unknown[]; parameters?: Array<{ in: string; name: string }>; responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } };

describe('OpenAPI document and typed client', () => {
  let server: Running;
  let doc: Document;

  beforeAll(async () => {
    const db = new MockDatabase();
    await db.connect();
    await db.schema.up();
    server = await startApp({ db, config: testConfig({ mode: 'development', apiKey: API_KEY }) });
    doc = (await http(server.url, 'GET', '/openapi.json')).body as Document;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is OpenAPI 3.1 with the bearer API key scheme and named components', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toEqual({ apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['ApiError', 'Asset', 'ContractEvent', 'HourlyBatch', 'Lease', 'Payment']);
  });

  it('lists every route the app serves, each with a success, the error shape and its security', () => {
    // fastify's own route tree, flattened: "METHOD /path/{param}" for every route but HEAD.
    const served: string[] = [];
    const stack: string[] = [];
    for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^((?:[│ ] {3})*)[├└]── (.+?) \(([^)]+)\)$/.exec(line);
      if (match === null) continue;
      const depth = (match[1] ?? '').length / 4;
      stack.length = depth;
      const path = `${stack.at(-1) ?? ''}${stack.length > 0 && !(match[2] ?? '').startsWith('/') && !(stack.at(-1) ?? '').endsWith('/') ? '/' : ''}${match[2]}`;
      stack.push(path);
      for (const method of (match[3] ?? '').split(', ')) if (method !== 'HEAD') served.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
    // Kept out of the document on purpose: the page, its assets, the reference itself and the document.
    const undocumented = (route: string) => /^GET \/(docs|console|openapi\.json|\*|$)/.test(route);
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(served.filter((r) => !undocumented(r)).sort()).toEqual(listed.sort());
    expect(served).toEqual(expect.arrayContaining(['GET /', 'GET /docs', 'GET /openapi.json', 'POST /api/leases/{leaseId}/access', 'POST /api/admin/reset', 'GET /metrics']));
    expect(listed.length).toBeGreaterThanOrEqual(27);

    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const codes = Object.keys(operation.responses);
        expect(codes.some((c) => /^2\d\d$/.test(c)), `${method} ${path}`).toBe(true);
        expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(['4XX', '5XX']));
        // The rule of security.ts: admin routes (system, metrics, admin) and writes other than the paid route.
        const admin = (path.startsWith('/api/system/') && path !== '/api/system/auth') || path === '/metrics' || path.startsWith('/api/admin/');
        const write = method !== 'get' && path !== '/api/leases/{leaseId}/access';
        expect((operation.security ?? []).length > 0, `${method} ${path} security`).toBe(admin || write);
      }
    }
  });

  it('documents the x402 headers and the 402 of the paid route', () => {
    const access = doc.paths['/api/leases/{leaseId}/access']?.['post'] as Operation;
    const headers = (access.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers.sort()).toEqual(['payment-signature', 'x-payment']);
    expect(Object.keys(access.responses['200']?.headers ?? {}).sort()).toEqual(['payment-response', 'x-payment-response']);
    expect(Object.keys(access.responses['402']?.headers ?? {})).toEqual(['payment-required']);
    const body = access.responses['402']?.content?.['application/json']?.schema as { required: string[] };
    expect(body.required).toEqual(['x402Version', 'error', 'accepts', 'code', 'details']);
  });

  it('compiles every response schema of the document with ajv', () => {
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    let compiled = 0;
    for (const methods of Object.values(doc.paths)) {
      for (const operation of Object.values(methods)) {
        for (const response of Object.values(operation.responses)) {
          for (const media of Object.values(response.content ?? {})) {
            expect(() => ajv.compile(media.schema as object)).not.toThrow();
            compiled += 1;
          }
        }
      }
    }
    expect(compiled).toBeGreaterThan(80);
  });

  it('turns an answer its schema does not describe into a 500 RESPONSE_NOT_DESCRIBED', async () => {
    const db = new MockDatabase();
    await db.connect();
    const app = await buildApp({ db, schema: db.schema, config: testConfig(), logger: pino({ level: 'silent' }), validateResponses: true });
    const response = { 200: { type: 'object', additionalProperties: false, required: ['a'], properties: { a: { type: 'integer' } } } };
    app.get('/extra-field', { schema: { response } }, async () => ({ a: 1, b: 2 }));
    app.get('/wrong-type', { schema: { response } }, async () => ({ a: '1' }));
    app.get('/undocumented-status', { schema: { response } }, async (_request, reply) => reply.code(201 as 200).send({ a: 1 }));
    app.get('/no-schema', async () => ({ a: 1 }));
    app.get('/described', { schema: { response } }, async () => ({ a: 1 }));
    for (const url of ['/extra-field', '/wrong-type', '/undocumented-status', '/no-schema']) {
      const answer = await app.inject({ url });
      expect(answer.statusCode, url).toBe(500);
      expect(answer.json().error.code, url).toBe('RESPONSE_NOT_DESCRIBED');
    }
    expect((await app.inject({ url: '/described' })).json()).toEqual({ a: 1 });
    await app.close();
  });

  it('serves the interactive reference at /docs from the package, with no CDN', async () => {
    const page = await http(server.url, 'GET', '/docs/static/index.html');
    expect(page.status).toBe(200);
    expect(page.body).toContain('swagger-ui');
    expect(page.body).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${server.url}/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    await bundle.arrayBuffer();
    const initializer = await http(server.url, 'GET', '/docs/static/swagger-initializer.js');
    expect(initializer.status).toBe(200);
    expect((await http(server.url, 'GET', '/docs/json')).body.paths).toEqual(doc.paths);
  });

  it('the committed client types equal a fresh generation (npm run client:generate)', async () => {
    expect(await readFile(CLIENT_TYPES_PATH, 'utf8')).toBe(await clientTypes());
  });
});
