/**
 * The package as its users get it (dist/ is built by the global setup):
 * - the `leasing-store` binary (bin/leasing-store.js): --version, --help, and `serve`;
 * - the library entry imported by the package name from another folder, in JavaScript, and a
 *   TypeScript consumer that type-checks against the emitted declarations;
 * - what `npm pack` puts in the tarball.
 * Packing, installing the tarball from the registry and running `npx leasing-store` is the
 * opt-in `npm run test:pack` (it needs the network).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_JS, CONSUMER_JS_OUTPUT, CONSUMER_TS, consumerTsconfig } from './support/consumer.js';
import { killLeftovers, portClosed, repo, spawnService } from './support/service-process.js';

const run = promisify(execFile);
const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const bin = join(repo, 'bin', 'leasing-store.js');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

/** A folder that depends on the package the way `npm link` does: node_modules/<name> -> the repository. */
async function consumerDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'consumer-'));
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await symlink(repo, join(dir, 'node_modules', pkg.name), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return dir;
}

describe('the leasing-store binary', () => {
  afterAll(() => killLeftovers());

  it('--version prints the package version', async () => {
    const { stdout } = await run(process.execPath, [bin, '--version']);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('--help lists serve and the data commands', async () => {
    const { stdout } = await run(process.execPath, [bin, '--help']);
    for (const command of ['serve', 'migrate', 'export', 'import', 'migrate-data', 'backup', 'restore', 'reconcile']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('serve runs the service until SIGTERM, then exits 0 and frees the port', async () => {
    const service = await spawnService(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], { USE_MOCK_DATABASE: 'true', PORT: '1' });
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(200);
    service.child.kill('SIGTERM');
    expect(await service.exit).toBe(0);
    expect(service.output()).toContain('"msg":"stopped"');
    expect(await portClosed(service.url)).toBe(true);
  });
});

describe('the library entry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await consumerDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is imported by the package name and works', async () => {
    await writeFile(join(dir, 'consumer.mjs'), CONSUMER_JS);
    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toMatchObject(CONSUMER_JS_OUTPUT);
  });

  it('type-checks a TypeScript consumer against the emitted declarations', async () => {
    await writeFile(join(dir, 'consumer.ts'), CONSUMER_TS);
    await writeFile(join(dir, 'tsconfig.json'), consumerTsconfig(join(repo, 'node_modules', '@types')));
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  });
});

describe('npm pack', () => {
  it('packs dist, bin, migrations, docs and .env.example, and no sources or tests', async () => {
    // --ignore-scripts: prepack would clean and rebuild dist/ under the other test files' feet.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo });
    const files = (JSON.parse(stdout) as { files: { path: string; mode: number }[] }[])[0]?.files ?? [];
    const paths = files.map((f) => f.path);
    for (const path of ['package.json', 'README.md', '.env.example', 'bin/leasing-store.js', 'dist/index.js', 'dist/index.d.ts', 'dist/main.js', 'dist/cli/main.js', 'migrations/001_initial_schema.sql']) {
      expect(paths).toContain(path);
    }
    expect(paths.filter((p) => /^(src|test|bench|node_modules)\//.test(p) || p.endsWith('.tsbuildinfo'))).toEqual([]);
    expect((files.find((f) => f.path === 'bin/leasing-store.js')?.mode ?? 0) & 0o111).not.toBe(0);
  });
});
