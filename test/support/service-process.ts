/**
 * The service as a child process: spawn it (compiled, through npm, or through the CLI), wait for
 * its "listening" log line, and check afterwards that it is gone and its port closed.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readLockOwner } from '../../src/util/file-lock.js';

/** The repository root (the package root). */
export const repo = fileURLToPath(new URL('../..', import.meta.url));

/** A spawned service that listens. */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** pid of the node process that listens (from its log line; not the npm process in front of it). */
  pid: number;
  output: () => string;
  exit: Promise<number | null>;
}

const spawned: ChildProcess[] = [];
const spawnedDetached = new WeakSet<ChildProcess>();

/**
 * Kills whatever a test left running (call from afterAll). Spawn npm detached, so that killing its
 * process group also kills the node process behind it.
 */
export function killLeftovers(): void {
  for (const child of spawned) {
    if (child.pid === undefined) continue;
    // A detached child leads its own process group: kill the group (npm and the node behind it,
    // which outlives npm when a signal went wrong).
    const detached = spawnedDetached.has(child);
    if (!detached && (child.exitCode !== null || child.signalCode !== null)) continue;
    try {
      process.kill(detached ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * The environment of a spawned service: only what it needs, never the test runner's DATABASE_URL.
 * No LEASING_MODE: each test names the mode it needs (`npm start` names development itself), so
 * a service started without one is in production mode, as it would be in a deployment.
 */
export function serviceEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env };
}

/** Spawns `command args` and waits for "Server listening at ..." (rejects if it exits first). */
export function spawnService(command: string, args: string[], env: Record<string, string>, options: SpawnOptions = {}): Promise<ServiceProcess> {
  const child = spawn(command, args, { cwd: repo, env: serviceEnv(env), stdio: ['ignore', 'pipe', 'pipe'], ...options });
  spawned.push(child);
  if (options.detached === true) spawnedDetached.add(child);
  let text = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let done = false;
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (done) return;
      const line = /^.*Server listening at (http:\/\/127\.0\.0\.1:\d+).*$/m.exec(text);
      if (line?.[1]) {
        done = true;
        const pid = Number(/"pid":(\d+)/.exec(line[0])?.[1]);
        resolve({ child, url: line[1], pid, output: () => text, exit });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exit.then((code) => reject(new Error(`exited ${code} before listening:\n${text}`)));
  });
}

/** Starts the compiled service, `node dist/main.js` (what `npm start` runs). */
export function startCompiled(env: Record<string, string>): Promise<ServiceProcess> {
  return spawnService(process.execPath, ['dist/main.js'], env);
}

export { isAlive } from '../../src/util/file-lock.js';

/** True when the lock of `path` was released by its owner (not merely abandoned by a dead one). */
export async function lockReleased(path: string): Promise<boolean> {
  const owner = await readLockOwner(path);
  return owner !== null && owner.releasedAt !== undefined;
}

/** Resolves true when nothing accepts connections at `url`'s port any more. */
export function portClosed(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
