/**
 * The `leasing-store` command as the tests run it: the compiled CLI, started as a child process
 * with its output piped (not a terminal).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repo } from './service-process.js';

/**
 * The `leasing-store` command as installed: bin/leasing-store.js runs the compiled CLI, which the
 * global setup (test/support/build.ts) builds from src/ before any test. Run through
 * {@link startCli} / {@link runCli}, or as `spawn(process.execPath, [CLI, ...args])`; the
 * development path (`npm run cli`) has its own test in test/api/main.test.ts.
 */
export const CLI = fileURLToPath(new URL('../../bin/leasing-store.js', import.meta.url));

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
    cwd: repo,
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
