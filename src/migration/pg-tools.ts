/**
 * Running the PostgreSQL client programs (pg_dump, psql, pg_restore) safely: the connection
 * string goes to them as `--dbname` with its password removed, and the password through
 * `PGPASSWORD` in the child's environment only, so it never shows in a process list or a log.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { scrubSecrets } from '../util/scrub-secrets.js';

/** How a program is found and connected. */
export interface PgConnection {
  /** `postgres://user:password@host:port/db?sslmode=...` */
  databaseUrl: string;
  /** Directory of the client programs (default: found on PATH). */
  binDir?: string | undefined;
}

/** The `--dbname` argument (no password) and the environment that carries the password. */
export function connectionArgs(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('the database URL is not a valid postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error('the database URL must start with postgres:// or postgresql://');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Notices such as "table does not exist, skipping" from DROP ... IF EXISTS are noise here.
  env['PGOPTIONS'] = [env['PGOPTIONS'], '-c client_min_messages=warning'].filter(Boolean).join(' ');
  const password = url.password !== '' ? decodeURIComponent(url.password) : url.searchParams.get('password');
  if (password !== null) env['PGPASSWORD'] = password;
  url.password = '';
  url.searchParams.delete('password');
  return { dbname: url.toString(), env };
}

/** What one program run needs. */
interface RunSpec {
  program: 'pg_dump' | 'psql' | 'pg_restore';
  args: string[];
  connection: PgConnection;
  /** Fed to the program's stdin. */
  input?: Readable;
  /** Streams the program's stdout is piped through, the last one a sink (default: discarded). */
  output?: [...Transform[], Writable];
  /** Run without `--dbname` (pg_restore converting a custom dump to SQL). */
  offline?: boolean;
}

/** Runs a client program to completion; rejects with its (secret-free) stderr on failure. */
export async function runPgProgram(spec: RunSpec): Promise<void> {
  const { dbname, env } = connectionArgs(spec.connection.databaseUrl);
  const command = spec.connection.binDir === undefined ? spec.program : join(spec.connection.binDir, spec.program);
  const child = spawn(command, spec.offline ? spec.args : [...spec.args, `--dbname=${dbname}`], {
    env,
    stdio: [spec.input ? 'pipe' : 'ignore', spec.output ? 'pipe' : 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 64_000) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const streams: Promise<void>[] = [];
  if (spec.input && child.stdin) {
    // A broken input must not reach the end of psql's script, where --single-transaction commits.
    streams.push(pipeline(spec.input, child.stdin).catch((error: unknown) => (child.kill('SIGKILL'), Promise.reject(error))));
  }
  if (spec.output && child.stdout) streams.push(pipeline([child.stdout, ...spec.output]));
  const settled = await Promise.allSettled([
    exited.catch((error: NodeJS.ErrnoException) => {
      throw new Error(error.code === 'ENOENT' ? `${command} not found; install the PostgreSQL client programs or pass --pg-bin-dir` : error.message);
    }),
    ...streams,
  ]);
  const [run, ...piped] = settled;
  if (run?.status === 'rejected') throw run.reason;
  if (run?.value !== 0) throw new Error(`${spec.program} failed (exit ${String(run?.value)}): ${scrubSecrets(stderr.trim()) || 'no message'}`);
  for (const result of piped) if (result.status === 'rejected') throw result.reason;
}
