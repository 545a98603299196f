/**
 * The entry point as a process: what `npm start` runs (`node dist/main.js`, built by the global
 * setup), in development mode on the embedded default and on memory, and in production mode on
 * PostgreSQL; a clear refusal of bad or missing configuration (production unless development is
 * named); a graceful SIGTERM/SIGINT that exits 0. Then `npm start` itself (which names development
 * mode): the signal reaches node whether it is sent to npm, to node, or to both (Ctrl-C), and
 * nothing is left running or locked.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { PgliteDriver } from '../../src/storage/backends/pglite/driver.js';
import { Migrator } from '../../src/storage/backends/sql/migrator.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import { packageInfo } from '../../src/package-info.js';
import { isAlive, killLeftovers, lockReleased, portClosed, repo, spawnService, startCompiled as start, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/pg.js';
import { activeLease, assetBody, http } from './support.js';
import { serveLocalFacilitator } from '../x402/support.js';

const dirs: string[] = [];
afterAll(async () => {
  killLeftovers();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'main-'));
  dirs.push(dir);
  return dir;
}

describe('the compiled service (node dist/main.js)', () => {
  it('runs on the embedded database by default, keeps data across restarts, and stops on SIGTERM', async () => {
    const dir = await tempDir();
    const env = { LEASING_MODE: 'development', PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir };
    const first = await start(env);
    expect((await http(first.url, 'GET', '/ready')).status).toBe(200);
    const status = await http(first.url, 'GET', '/api/system/status');
    expect(status.body.backend.kind).toBe('pglite');
    expect(status.body.migrations.every((m: { state: string }) => m.state === 'applied')).toBe(true);
    expect((await http(first.url, 'POST', '/api/assets', { body: assetBody('A-1') })).status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');

    const second = await start(env);
    expect((await http(second.url, 'GET', '/api/assets/A-1')).status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);
  });

  it('drains an in-flight paid access (slow facilitator) before exiting', async () => {
    const facilitator = Fastify();
    serveLocalFacilitator(facilitator, { before: () => new Promise((resolve) => setTimeout(resolve, 300)) });
    const facilitatorUrl = await facilitator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const service = await start({ LEASING_MODE: 'development', USE_MOCK_DATABASE: 'true', FACILITATOR_URL: facilitatorUrl });
      await activeLease(service.url, 'A-1', 'L-1');
      const quote = (await http(service.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
      const header = paymentHeader(quote);
      const inFlight = http(service.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': header } });
      await new Promise((resolve) => setTimeout(resolve, 150));
      service.child.kill('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.ledger).toBe('recorded');
      expect(await service.exit).toBe(0);
    } finally {
      await facilitator.close();
    }
  });

  it('refuses to start when an applied migration drifted from its file', async () => {
    const dir = await tempDir();
    const driver = new PgliteDriver(join(dir, 'pglite'));
    await driver.open();
    expect((await new Migrator(driver).up()).error).toBeUndefined();
    await driver.query(`UPDATE schema_migrations SET sha256 = repeat('0', 64) WHERE version = 2`);
    await driver.close();
    const refused = start({ LEASING_MODE: 'development', PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir });
    await expect(refused).rejects.toThrow(/exited 1/);
    await expect(refused).rejects.toThrow(/002_ledger_integrity \(drifted\)[\s\S]*cannot start: the database is not usable/);
  });

  it('refuses to start when the port is taken, and releases the data directory', async () => {
    const dir = await tempDir();
    const taken = Fastify();
    const url = await taken.listen({ port: 0, host: '127.0.0.1' });
    try {
      const refused = start({ LEASING_MODE: 'development', PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir, PORT: new URL(url).port });
      await expect(refused).rejects.toThrow(/exited 1[\s\S]*EADDRINUSE[\s\S]*cannot listen/);
      expect(await lockReleased(join(dir, 'pglite'))).toBe(true);
      expect(await lockReleased(join(dir, 'pending-payments.jsonl'))).toBe(true);
    } finally {
      await taken.close();
    }
  });

  it('refuses to start with invalid configuration, naming every problem', async () => {
    const { code, stderr } = await runUntilExit({ NODE_ENV: 'production', PORT: 'http', USE_MOCK_DATABASE: 'true' });
    expect(code).toBe(1);
    expect(stderr).toContain('invalid configuration');
    expect(stderr).toContain('PORT must be an integer');
    expect(stderr).toContain('USE_MOCK_DATABASE=true is for development only');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('fails closed: without LEASING_MODE it is production and names everything it misses at once', async () => {
    const { code, stderr } = await runUntilExit({});
    expect(code).toBe(1);
    for (const missing of ['API_KEY', 'DATABASE_URL', 'FACILITATOR_URL']) expect(stderr).toContain(`${missing} is required in production mode`);
    expect(stderr).toContain('LEASING_MODE is not set');
  });

  it('development mode says so in its first log line, binds 127.0.0.1 and has the reset route', async () => {
    const service = await start({ LEASING_MODE: 'development', USE_MOCK_DATABASE: 'true', HOST: '' });
    const first = JSON.parse(service.output().split('\n')[0] ?? '{}') as { mode?: string; msg?: string; host?: string };
    expect(first).toMatchObject({ mode: 'development', host: '127.0.0.1', msg: expect.stringContaining('NOT FOR PRODUCTION') });
    expect(first.msg).toContain('local facilitator');
    expect((await http(service.url, 'POST', '/api/admin/reset')).status).toBe(200);
    service.child.kill('SIGTERM');
    expect(await service.exit).toBe(0);
  });

  it('production mode runs on PostgreSQL with a key and a facilitator URL, on every interface, closed to callers without the key', async () => {
    const database = await createTestDatabase();
    // A real facilitator over HTTP: production checks its GET /supported before listening.
    const facilitator = Fastify();
    serveLocalFacilitator(facilitator);
    const facilitatorUrl = await facilitator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = new URL(database.url);
      url.searchParams.set('sslmode', 'disable'); // production verifies TLS by default; the test server has none
      const key = 'production-key-0123456789';
      const service = await start({ DATABASE_URL: url.toString(), API_KEY: key, FACILITATOR_URL: facilitatorUrl, HOST: '', DATA_DIR: await tempDir() });
      const lines = service.output().split('\n');
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ mode: 'production', msg: expect.stringContaining('production mode') });
      // Logged right after fastify's "listening" line, which the spawn waited for.
      for (let i = 0; i < 250 && !service.output().includes('"msg":"service started"'); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(service.output()).toMatch(/"host":"0\.0\.0\.0"[^\n]*"msg":"service started"/);
      const auth = { authorization: `Bearer ${key}` };
      expect((await http(service.url, 'GET', '/health')).status).toBe(200);
      expect((await http(service.url, 'GET', '/ready')).status).toBe(200);
      for (const path of ['/api/system/status', '/api/system/reconcile', '/metrics']) {
        expect((await http(service.url, 'GET', path)).status, path).toBe(401);
        expect((await http(service.url, 'GET', path, { headers: auth })).status, path).toBe(200);
      }
      expect((await http(service.url, 'GET', '/api/system/status', { headers: auth })).body).toMatchObject({ mode: 'production', backend: { kind: 'postgres' }, facilitator: 'http' });
      expect((await http(service.url, 'POST', '/api/assets', { body: assetBody('A-1') })).status).toBe(401);
      expect((await http(service.url, 'POST', '/api/assets', { body: assetBody('A-1'), headers: auth })).status).toBe(201);
      expect((await http(service.url, 'POST', '/api/admin/reset', { headers: auth })).status).toBe(404);
      service.child.kill('SIGTERM');
      expect(await service.exit).toBe(0);
    } finally {
      await facilitator.close();
      await database.drop();
    }
  });
});

/** Runs `node dist/main.js` with only `env` (and PATH) until it exits. */
async function runUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: repo, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

/** Waits for the npm process and checks that the service behind it stopped cleanly. */
async function expectCleanStop(service: ServiceProcess, dir?: string): Promise<void> {
  expect(await service.exit).toBe(0); // npm exits with its script's code
  expect(service.output()).toContain('"msg":"stopped"');
  expect(service.output()).not.toContain('second signal');
  expect(isAlive(service.pid)).toBe(false);
  expect(await portClosed(service.url)).toBe(true);
  if (dir !== undefined) {
    expect(await lockReleased(join(dir, 'pglite'))).toBe(true); // the PGlite data directory is released
    expect(await lockReleased(join(dir, 'pending-payments.jsonl'))).toBe(true);
  }
}

describe('npm start', () => {
  // npm and the node process it starts get their own process group (detached), as in a terminal.
  const npmStart = (env: Record<string, string>, prestart = true) =>
    spawnService('npm', prestart ? ['start'] : ['start', '--ignore-scripts'], env, { detached: true });

  it('builds (prestart), serves, and stops cleanly when npm gets SIGTERM', async () => {
    const dir = await tempDir();
    const service = await npmStart({ PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir });
    expect(service.pid).not.toBe(service.child.pid); // the listener is node, behind npm
    expect((await http(service.url, 'GET', '/ready')).status).toBe(200);
    service.child.kill('SIGTERM');
    await expectCleanStop(service, dir);
  });

  // --ignore-scripts skips only prestart (the build above already ran); `start` itself still runs.
  it('stops cleanly when node itself gets SIGTERM, and npm exits 0 with it', async () => {
    const service = await npmStart({ USE_MOCK_DATABASE: 'true' }, false);
    process.kill(service.pid, 'SIGTERM');
    await expectCleanStop(service);
  });

  it('stops cleanly on Ctrl-C: SIGINT to the whole process group (node gets it from the terminal and again from npm)', async () => {
    const dir = await tempDir();
    const service = await npmStart({ PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir, LOG_LEVEL: 'debug' }, false);
    process.kill(-(service.child.pid as number), 'SIGINT');
    await expectCleanStop(service, dir);
  });

  it('stops cleanly when npm gets SIGINT (memory backend)', async () => {
    const service = await npmStart({ USE_MOCK_DATABASE: 'true' }, false);
    service.child.kill('SIGINT');
    await expectCleanStop(service);
  });
});

describe('npm run dev (tsx src/main.ts)', () => {
  it('starts from the sources and stops on SIGTERM', async () => {
    const service = await spawnService(process.execPath, ['--import', 'tsx', 'src/main.ts'], { LEASING_MODE: 'development', USE_MOCK_DATABASE: 'true' });
    expect((await http(service.url, 'GET', '/health')).status).toBe(200);
    service.child.kill('SIGTERM');
    expect(await service.exit).toBe(0);
    expect(await portClosed(service.url)).toBe(true);
  });
});

// The other CLI tests run the compiled command (test/support/cli.ts); this is
// the development path the README gives for a checkout.
describe('npm run cli (tsx src/cli/main.ts)', () => {
  it('runs the CLI from the sources', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'cli', '--', '--version'], { cwd: repo });
    expect(stdout.trim()).toBe(packageInfo().version);
  });
});
