/**
 * Helpers of the migration tests (targets come from test/support/backends.ts): a quiet logger,
 * a temporary directory and the CLI runner.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordingLogger } from '../support/logger.js';
import { CLI } from '../support/service-process.js';

/**
 * A logger that keeps pool warnings out of the test output: pg-pool's end() resolves before its
 * sockets close, so dropping a database WITH (FORCE) right after disconnect() can make a closing
 * idle connection report "terminating connection due to administrator command".
 */
export function quietLogger(): ReturnType<typeof recordingLogger>['logger'] {
  return recordingLogger().logger;
}

/** A fresh temporary directory and its removal. */
export async function tempDir(): Promise<{ dir: string; file: (name: string) => string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'migration-test-'));
  return { dir, file: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A running CLI process: its output so far and its exit. */
export interface CliRun {
  stdout: () => string;
  stderr: () => string;
  /** Called with each complete stderr line as it arrives. */
  onLine: (listener: (line: string) => void) => void;
  kill: () => void;
  exit: Promise<number | null>;
}

/** Starts `leasing-store <args>` (the compiled CLI) with stdout/stderr piped, i.e. not a terminal. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', PGLITE_DATA_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let partial = '';
  const listeners: ((line: string) => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const l of listeners) l(line);
  });
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { stdout: () => out, stderr: () => err, onLine: (l) => listeners.push(l), kill: () => child.kill('SIGKILL'), exit };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, env);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
