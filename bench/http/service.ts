/**
 * The service under load, in a process of its own: `startService()` as src/main.ts runs it
 * (through bench/support/http-service.ts) on the benchmark's database, and the benchmark's
 * switches over its IPC channel (the facilitator's signature checks, the stage profiler).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProfileSnapshot } from '../support/paid-profile.js';
import { freePort } from '../../test/support/free-port.js';
import { PAYMENT_VALIDITY_SECONDS } from './settings.js';

/** A running service and the benchmark's switch of its facilitator. */
export interface Service {
  base: string;
  pid: number;
  /** Swaps the facilitator: with signature checks (the service's own) or without. */
  signatures(mode: 'verify' | 'skip'): Promise<void>;
  /** Starts timing the service's stages (see bench/support/paid-profile.ts). */
  profileStart(): Promise<void>;
  /**
   * What the service measured since {@link profileStart}; with BENCH_HTTP_PROFILE=1 it also writes
   * that stretch's V8 profiles as `.bench/profiles/http-<name>.{cpuprofile,heapprofile}`.
   */
  profileStop(name: string): Promise<ProfileSnapshot>;
  stop: () => Promise<number | null>;
}

/** Starts the service (bench/support/http-service.ts) on `url`'s database and waits until /ready answers 200. */
export async function startService(databaseUrl: string): Promise<Service> {
  const port = await freePort();
  // Its own pending-payment file, so the benchmark never contends with a service run from ./data.
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-http-'));
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  // The paid route is rate-limited per client, and every autocannon connection is one client here.
  const settings = {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
    LEASING_MODE: 'development',
    PGPOOL_MAX: '20',
    ACCESS_RATE_LIMIT_MAX: '1000000',
    X402_MAX_TIMEOUT_SECONDS: String(PAYMENT_VALIDITY_SECONDS),
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/support/http-service.ts'], {
    cwd: repo,
    // The production pool size (guide section 5); development mode (LEASING_MODE) for the local facilitator.
    env: { ...process.env, ...settings, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, PENDING_PAYMENTS_FILE: '', USE_MOCK_DATABASE: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    const ok = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (attempt > 200) throw new Error('the service did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    base,
    pid: child.pid ?? 0,
    signatures: (mode) =>
      new Promise<void>((resolve, reject) => {
        const expected = mode === 'verify' ? 'ok:local' : 'ok:local-unverified';
        child.once('message', (answer) => (answer === expected ? resolve() : reject(new Error(`the service answered ${String(answer)} to ${mode}`))));
        child.send(mode === 'verify' ? 'verify-signatures' : 'skip-signatures');
      }),
    profileStart: () =>
      new Promise<void>((resolve, reject) => {
        child.once('message', (answer) => (answer === 'ok:profile' ? resolve() : reject(new Error(`the service answered ${String(answer)} to profile-start`))));
        child.send('profile-start');
      }),
    profileStop: (name) =>
      new Promise<ProfileSnapshot>((resolve, reject) => {
        child.once('message', (answer) => {
          const profile = (answer as { profile?: ProfileSnapshot } | null)?.profile;
          if (profile === undefined) reject(new Error(`the service answered ${JSON.stringify(answer)} to profile-stop`));
          else resolve(profile);
        });
        child.send(`profile-stop:${name}`);
      }),
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      await rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
