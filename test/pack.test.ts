/**
 * The packed package, installed as a user installs it (needs the npm registry for the
 * dependencies). `npm pack` of the dist/ the global setup built (its scripts are skipped so the
 * build other tests run from is not rebuilt under them), `npm install <tarball>` into an empty folder,
 * then `npx leasing-store --version | --help | serve`, an import by the package name, and a
 * TypeScript consumer checked against the installed declarations.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_JS, CONSUMER_JS_OUTPUT, CONSUMER_TS, consumerTsconfig } from './support/consumer.js';
import { isAlive, killLeftovers, lockReleased, portClosed, repo, spawnService } from './support/service-process.js';

const run = promisify(execFile);
const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };

describe('the packed package, installed', () => {
  let dir: string;
  let app: string;
  let packed: { path: string; mode: number }[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repo });
    const [report] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string; files: { path: string; mode: number }[] }[];
    packed = report?.files ?? [];
    const tarball = join(dir, report?.filename ?? '');
    app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run('npm', ['install', tarball, '--no-audit', '--no-fund'], { cwd: app });
  }, 300_000);

  afterAll(async () => {
    killLeftovers();
    await rm(dir, { recursive: true, force: true });
  });

  it('packs dist, bin, migrations, docs, the operator page and .env.example, and no sources or tests', () => {
    const paths = packed.map((f) => f.path);
    for (const path of ['package.json', 'README.md', '.env.example', 'bin/leasing-store.js', 'dist/index.js', 'dist/index.d.ts', 'dist/main.js', 'dist/cli/main.js', 'migrations/001_initial_schema.sql', 'docs/architecture.md', 'public/console/index.html', 'public/console/app.js', 'dist/client/index.js', 'dist/client/api-types.d.ts']) {
      expect(paths).toContain(path);
    }
    expect(paths.filter((p) => /^(src|test|bench|node_modules)\//.test(p) || p.endsWith('.tsbuildinfo'))).toEqual([]);
    expect((packed.find((f) => f.path === 'bin/leasing-store.js')?.mode ?? 0) & 0o111).not.toBe(0);
  });

  it('npx leasing-store --version and --help', async () => {
    expect((await run('npx', ['leasing-store', '--version'], { cwd: app })).stdout.trim()).toBe(pkg.version);
    expect((await run('npx', ['leasing-store', '--help'], { cwd: app })).stdout).toMatch(/^\s+serve\b/m);
  });

  it('npx leasing-store serve finds its migrations, answers /health and /ready, and stops on SIGTERM', async () => {
    const data = join(dir, 'data');
    // The service is a child of npx's shell; the signal goes to it (npx itself does not forward it
    // past that shell).
    const service = await spawnService('npx', ['leasing-store', 'serve', '--port', '0', '--host', '127.0.0.1'], { LEASING_MODE: 'development', PGLITE_DATA_DIR: join(data, 'pglite'), DATA_DIR: data }, { cwd: app, detached: true });
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
    // The operator page, its chart library and the API reference come from the installed package.
    for (const path of ['/', '/console/app.js', '/console/vendor/uplot/uPlot.iife.min.js', '/docs/static/index.html', '/openapi.json']) {
      const asset = await fetch(`${service.url}${path}`);
      expect(asset.status, path).toBe(200);
      await asset.arrayBuffer();
    }
    const status = (await (await fetch(`${service.url}/api/system/status`)).json()) as { migrations: { state: string }[] };
    expect(status.migrations.length).toBeGreaterThan(0);
    expect(status.migrations.every((m) => m.state === 'applied')).toBe(true);
    process.kill(service.pid, 'SIGTERM');
    expect(await service.exit).toBe(0);
    expect(isAlive(service.pid)).toBe(false);
    expect(await portClosed(service.url)).toBe(true);
    expect(await lockReleased(join(data, 'pglite'))).toBe(true);
  });

  it('is imported by its name, and a TypeScript consumer type-checks against it', async () => {
    await writeFile(join(app, 'consumer.mjs'), CONSUMER_JS);
    expect(JSON.parse((await run(process.execPath, ['consumer.mjs'], { cwd: app })).stdout)).toMatchObject(CONSUMER_JS_OUTPUT);
    await writeFile(join(app, 'consumer.ts'), CONSUMER_TS);
    await writeFile(join(app, 'tsconfig.json'), consumerTsconfig());
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', app], { cwd: app }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  });
});
