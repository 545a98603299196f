/**
 * Backup and restore with the PostgreSQL tools (guide section 7): plain SQL (`.sql`), gzipped SQL
 * (`.sql.gz`) or pg_dump's custom format (`.dump`). Backups are written under `<file>.partial`
 * and renamed when pg_dump succeeded, so a file with the final name is a complete dump. Restores
 * go into an empty database in one transaction, and refuse a database that has tables unless
 * forced.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { fsyncFile } from '../util/fsync.js';
import { createDriver } from '../storage/create-database.js';
import { runPgProgram, type PgConnection } from './pg-tools.js';

/** The three backup formats. */
export const BACKUP_FORMATS = ['plain', 'gzip', 'custom'] as const;
/** A backup format: plain SQL, gzipped plain SQL, or pg_dump's custom format. */
export type BackupFormat = (typeof BACKUP_FORMATS)[number];

/** The format a file name implies: `.sql.gz`/`.gz` gzip, `.dump` custom, anything else plain. */
export function formatOfPath(path: string): BackupFormat {
  if (path.endsWith('.gz')) return 'gzip';
  if (path.endsWith('.dump')) return 'custom';
  return 'plain';
}

// pg_dump ends every complete plain dump with this comment; a file without it was cut short.
const DUMP_COMPLETE = '-- PostgreSQL database dump complete';

/** Result of {@link backupDatabase}. */
export interface BackupResult {
  path: string;
  format: BackupFormat;
  bytes: number;
  durationMs: number;
}

/**
 * Dumps the database to `path`. Plain and gzip dumps carry `DROP ... IF EXISTS` statements
 * (`--clean --if-exists`) so that a forced restore can replace existing objects; they are
 * harmless in an empty database.
 */
export async function backupDatabase(connection: PgConnection, path: string, format: BackupFormat = formatOfPath(path)): Promise<BackupResult> {
  const started = performance.now();
  const partial = `${path}.partial`;
  try {
    if (format === 'gzip') {
      await runPgProgram({ program: 'pg_dump', args: ['--format=plain', '--clean', '--if-exists'], connection, output: [createGzip(), createWriteStream(partial)] });
    } else {
      const args = format === 'custom' ? ['--format=custom'] : ['--format=plain', '--clean', '--if-exists'];
      await runPgProgram({ program: 'pg_dump', args: [...args, `--file=${partial}`], connection });
    }
    await fsyncFile(partial);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { path, format, bytes: (await stat(path)).size, durationMs: Math.round(performance.now() - started) };
}

/** Tables outside the system schemas, as `schema.table`. */
export async function listUserTables(databaseUrl: string): Promise<string[]> {
  const driver = await createDriver({ databaseUrl });
  await driver.open();
  try {
    const { rows } = await driver.query<{ name: string }>(
      `SELECT schemaname || '.' || tablename AS name FROM pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg_toast%' ORDER BY 1`,
    );
    return rows.map((r) => r.name);
  } finally {
    await driver.close();
  }
}

const FORCE_PREAMBLE = '--command=DROP TABLE IF EXISTS x402_payments CASCADE';

/** Options of {@link restoreDatabase}. */
export interface RestoreOptions {
  /** Default: from the file name. */
  format?: BackupFormat;
  /** Restore into a database that already has tables, replacing the dumped objects. */
  force?: boolean;
}

/** Raised when the target database is not empty and `force` was not given. */
export class NotEmptyError extends Error {
  override readonly name = 'NotEmptyError';
  constructor(readonly tables: string[]) {
    super(`the target database is not empty (${tables.length} tables, e.g. ${tables.slice(0, 3).join(', ')}); restore into an empty database or pass --force`);
  }
}

/**
 * Restores a backup in one transaction (psql `--single-transaction` with ON_ERROR_STOP, or
 * pg_restore `--single-transaction --exit-on-error`), so a failed restore leaves nothing behind.
 * A plain or gzip dump is first checked to be complete (and a gzip file to be undamaged).
 */
export async function restoreDatabase(connection: PgConnection, path: string, options: RestoreOptions = {}): Promise<{ durationMs: number }> {
  const started = performance.now();
  const format = options.format ?? formatOfPath(path);
  const tables = await listUserTables(connection.databaseUrl);
  if (tables.length > 0 && !options.force) throw new NotEmptyError(tables);
  // pg_dump's --clean cannot drop a partition's inherited constraints and indexes one by one, so
  // a forced restore first drops the partitioned payment table with its partitions, in the same
  // transaction as the rest (nothing is lost if the restore then fails).
  const psql = ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--single-transaction', ...(options.force ? [FORCE_PREAMBLE] : [])];
  if (format === 'custom' && options.force) {
    // pg_restore cannot run the preamble: the dump becomes a script first, then goes through psql.
    const dir = await mkdtemp(join(tmpdir(), 'restore-'));
    try {
      const script = join(dir, 'restore.sql');
      await runPgProgram({ program: 'pg_restore', args: ['--clean', '--if-exists', `--file=${script}`, path], connection, offline: true });
      await runPgProgram({ program: 'psql', args: [...psql, `--file=${script}`], connection });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else if (format === 'custom') {
    const args = ['--exit-on-error', '--single-transaction', ...(options.force ? ['--clean', '--if-exists'] : []), path];
    await runPgProgram({ program: 'pg_restore', args, connection });
  } else if (format === 'gzip') {
    await checkComplete(gunzipped(path), path);
    await runPgProgram({ program: 'psql', args: [...psql, '--file=-'], connection, input: gunzipped(path) });
  } else {
    await checkComplete(createReadStream(path), path);
    await runPgProgram({ program: 'psql', args: [...psql, `--file=${path}`], connection });
  }
  return { durationMs: Math.round(performance.now() - started) };
}

// pipe() would not pass a read error on to the gunzip stream; a damaged file must fail the read.
function gunzipped(path: string): Readable {
  const gunzip = createGunzip();
  const file = createReadStream(path);
  file.on('error', (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}

// Streams the dump once (through gunzip, which checks the gzip CRC) keeping only its tail.
async function checkComplete(stream: Readable, path: string): Promise<void> {
  let tail = '';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) tail = (tail + chunk.toString('latin1')).slice(-4096);
  } catch (error) {
    throw new Error(`${path} is damaged: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!tail.includes(DUMP_COMPLETE)) throw new Error(`${path} is not a complete pg_dump (its "${DUMP_COMPLETE}" line is missing)`);
}
