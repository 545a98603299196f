/**
 * The entry point as a process (what `npm start` runs): startup on the embedded default and on
 * memory, a clear refusal of bad configuration, and a graceful SIGTERM that exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import { PgliteDriver } from '../../src/storage/backends/pglite/driver.js';
import { Migrator } from '../../src/storage/backends/sql/migrator.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import type { PaymentPayload, PaymentRequirements } from '../../src/api/x402/types.js';
import { activeLease, assetBody, http } from './support.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Service {
  child: ChildProcess;
  url: string;
  output: () => string;
  exit: Promise<number | null>;
}

/** Starts src/main.ts on an ephemeral port and waits for its "listening" log line. */
function start(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (match?.[1]) resolve({ child, url: match[1], output: () => text, exit });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exit.then((code) => reject(new Error(`exited ${code} before listening:\n${text}`)));
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'main-'));
  dirs.push(dir);
  return dir;
}

describe('npm start (src/main.ts)', () => {
  it('runs on the embedded database by default, keeps data across restarts, and stops on SIGTERM', async () => {
    const dir = await tempDir();
    const env = { PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir };
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
    const local = new LocalFacilitator();
    const facilitator = Fastify();
    facilitator.post('/:op', async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { paymentPayload, paymentRequirements } = request.body as { paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements };
      return (request.params as { op: string }).op === 'verify' ? local.verify(paymentPayload, paymentRequirements) : local.settle(paymentPayload, paymentRequirements);
    });
    const facilitatorUrl = await facilitator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const service = await start({ USE_MOCK_DATABASE: 'true', FACILITATOR_URL: facilitatorUrl });
      await activeLease(service.url, 'A-1', 'L-1');
      const quote = (await http(service.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
      const header = paymentHeader(quote, { from: '0x9999999999999999999999999999999999999999' });
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
    const refused = start({ PGLITE_DATA_DIR: join(dir, 'pglite'), DATA_DIR: dir });
    await expect(refused).rejects.toThrow(/exited 1/);
    await expect(refused).rejects.toThrow(/002_ledger_integrity \(drifted\)[\s\S]*cannot start: the database is not usable/);
  });

  it('refuses to start with invalid configuration, naming every problem', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: 'http', USE_MOCK_DATABASE: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('invalid configuration');
    expect(stderr).toContain('PORT must be an integer');
    expect(stderr).toContain('API_KEY is required when NODE_ENV=production');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
