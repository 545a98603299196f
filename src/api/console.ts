/**
 * The operator page: static files of the package (`public/console/`) at `/`, and the chart
 * library (uPlot, an npm dependency) served from its installed copy, so the page needs no network
 * beyond the service. The page reads only the API (with the API key when one is set).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../package-info.js';

/** Where the page's own files are served (`/` serves its index.html). */
export const CONSOLE_PREFIX = '/console/';
/** Where uPlot's files are served. */
export const VENDOR_PREFIX = '/console/vendor/uplot/';

/** The folder of the page's files inside the package. */
export function consoleRoot(): string {
  return join(packageRoot(), 'public', 'console');
}

/** Registers the page and its assets (kept out of the OpenAPI document). */
export async function installConsole(app: FastifyInstance): Promise<void> {
  const root = consoleRoot();
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  await app.register(fastifyStatic, { root, prefix: CONSOLE_PREFIX, decorateReply: false, index: false, schemaHide: true, maxAge: 0 });
  await app.register(fastifyStatic, { root: uplot, prefix: VENDOR_PREFIX, decorateReply: false, index: false, schemaHide: true, allowedPath: (path) => /^\/uPlot\.(iife\.min\.js|min\.css)$/.test(path) });
  // The page itself at `/`, so the service's address is all an operator needs.
  const index = await readFile(join(root, 'index.html'), 'utf8');
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(index));
}
