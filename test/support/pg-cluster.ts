/**
 * A private, throwaway PostgreSQL cluster for tests that must crash, stop or restart the server:
 * `initdb` into a temporary directory, its own free port, its unix socket inside that directory,
 * run as the `postgres` OS user (initdb refuses root), fsync on (these tests are about
 * durability). The shared server on 5432 is never touched. `destroy()` stops the cluster and
 * removes the directory; an exit hook does the same if a test process ends without it.
 *
 * The binaries come from `PG_BIN_DIR`, default the newest `/usr/lib/postgresql/<n>/bin`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Directory of initdb, pg_ctl and postgres. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL binaries under ${root}; set PG_BIN_DIR`);
  return join(root, versions[0] as string, 'bin');
}

/** True when this machine can run a private cluster (the binaries exist). */
export function canRunPrivateCluster(): boolean {
  try {
    return existsSync(join(postgresBinDir(), 'initdb'));
  } catch {
    return false;
  }
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root, as ourselves otherwise. */
async function pgTool(dir: string, tool: string, args: string[]): Promise<string> {
  const binary = join(postgresBinDir(), tool);
  const [command, full] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  try {
    const { stdout } = await run(command, full, { cwd: dir, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${stderr ?? ''}${stdout ?? ''}`, { cause: error });
  }
}

/** A running (or stopped) private cluster. */
export interface PrivateCluster {
  /** Its port on 127.0.0.1. */
  port: number;
  /** The temporary directory holding data, socket and log. */
  dir: string;
  /** Connection string of `database` (default `postgres`), user postgres, trust auth. */
  url(database?: string): string;
  /** Starts the server and waits until it accepts connections (after crash recovery, if any). */
  start(): Promise<void>;
  /** Stops it: `fast` (clean) or `immediate` (a crash: no checkpoint, recovery from WAL on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Terminates every client backend (`pg_terminate_backend`); returns how many were ended. */
  terminateBackends(): Promise<number>;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The server log so far (for failure messages). */
  log(): string;
  /** Stops the server if it runs and removes the directory; safe to call twice. */
  destroy(): Promise<void>;
}

const live = new Set<string>();
let exitHookInstalled = false;

function stopNow(dir: string): void {
  const binary = join(postgresBinDir(), 'pg_ctl');
  const args = ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w', '-t', '30'];
  spawnSync(asRoot ? 'runuser' : binary, asRoot ? ['-u', 'postgres', '--', binary, ...args] : args, { cwd: dir, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test process that dies without running its afterAll must not leave a server behind.
  process.once('exit', () => {
    for (const dir of live) stopNow(dir);
  });
}

/** Creates, initializes and starts a private cluster. */
export async function startPrivateCluster(options: { settings?: Record<string, string> } = {}): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-private-'));
  live.add(dir);
  installExitHook();
  if (asRoot) {
    const { uid, gid } = userIds('postgres');
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let port = 0;
  let running = false;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'on',
    synchronous_commit: 'on',
    full_page_writes: 'on',
    max_connections: '100',
    shared_buffers: '32MB',
    logging_collector: 'off',
    ...options.settings,
  };

  const cluster: PrivateCluster = {
    get port() {
      return port;
    },
    dir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      // The port is chosen again on a retry: another process may have taken it meanwhile.
      for (let attempt = 1; ; attempt += 1) {
        if (port === 0 || attempt > 1) port = await freePort();
        const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
        try {
          await pgTool(dir, 'pg_ctl', ['start', '-D', data, '-w', '-t', '120', '-l', logFile, '-o', serverOptions]);
          running = true;
          return;
        } catch (error) {
          if (attempt >= 3) throw new Error(`${(error as Error).message}\n${cluster.log()}`, { cause: error });
        }
      }
    },
    async stop(mode = 'fast') {
      await pgTool(dir, 'pg_ctl', ['stop', '-D', data, '-m', mode, '-w', '-t', '120']);
      running = false;
    },
    async terminateBackends() {
      const client = new pg.Client({ connectionString: cluster.url() });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const { rows } = await client.query<{ ended: boolean }>(
          "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        );
        return rows.filter((r) => r.ended).length;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: cluster.url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return cluster.url(name);
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async destroy() {
      if (!live.has(dir)) return;
      if (running) await cluster.stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
    },
  };

  try {
    await pgTool(dir, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions']);
    await cluster.start();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no OS user ${name}: a private cluster cannot run as root without it`);
  return { uid: Number(uid), gid: Number(gid) };
}
