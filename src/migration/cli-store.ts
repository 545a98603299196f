/**
 * Store handling shared by the data commands (export, import, migrate-data, backup, restore):
 * which store the options select, checking its schema before writing, and how failures map to
 * exit codes (0 done and verified; 1 an answer the operator must act on: differences found, a
 * snapshot refused, a non-empty restore target; 2 the command could not run).
 */
import { InvalidArgumentError } from 'commander';
import { createDatabase, type Store } from '../storage/create-database.js';
import { isStorageError } from '../storage/errors.js';
import { scrubSecrets } from '../shared/scrub-secrets.js';
import { NotEmptyError } from './backup.js';
import { SnapshotError } from './snapshot-format.js';

/** Backend options as the shared `addBackendOptions` parses them. */
export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
}

/** The PostgreSQL URL of the options or `DATABASE_URL`, if any. */
export function databaseUrlOf(options: { databaseUrl?: string | undefined }): string | undefined {
  return options.databaseUrl || process.env['DATABASE_URL'] || undefined;
}

/** True for a `postgres://` or `postgresql://` connection string. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Opens the store the options select: PostgreSQL from a URL, else PGlite in the data directory. */
export async function openStore(options: { databaseUrl?: string | undefined; dataDir?: string | undefined }): Promise<Store> {
  const databaseUrl = databaseUrlOf(options);
  const store = await createDatabase({ databaseUrl, dataDir: options.dataDir, env: process.env });
  await store.db.connect();
  return store;
}

/**
 * Makes sure the store's schema is current before data is written: applies pending migrations
 * when `apply` is set, otherwise refuses with the command to run, because a data command that
 * silently changed a production schema would surprise its operator.
 */
export async function ensureSchema(store: Store, apply: boolean): Promise<void> {
  if (!store.db.capabilities.sql) return;
  const statuses = await store.schema.status();
  const behind = statuses.filter((s) => s.state !== 'applied');
  if (statuses.length > 0 && behind.length === 0) return;
  if (!apply) {
    const names = behind.map((s) => `${String(s.version).padStart(3, '0')}_${s.name} (${s.state})`).join(', ');
    throw new SchemaNotReadyError(`the target schema is not current (${names || 'no migrations'}); run \`leasing-store migrate up\` first or pass --apply-schema`);
  }
  const result = await store.schema.up();
  if (result.error) throw result.error;
}

/** The target's schema needs migrations first. */
export class SchemaNotReadyError extends Error {
  override readonly name = 'SchemaNotReadyError';
}

/** Prints `error` without secrets and returns the exit code it means. */
export function reportFailure(error: unknown, err: { write(text: string): unknown } = process.stderr): 1 | 2 {
  const answer = error instanceof SnapshotError || error instanceof NotEmptyError || error instanceof SchemaNotReadyError;
  const text = isStorageError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  err.write(`${error instanceof SnapshotError ? 'snapshot refused, nothing written: ' : 'error: '}${scrubSecrets(text)}\n`);
  return answer ? 1 : 2;
}

/** Commander parser of a positive integer option. */
export function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** Opens a store to write into, with its schema checked (see {@link ensureSchema}). */
export async function openTarget(
  options: { databaseUrl?: string | undefined; dataDir?: string | undefined },
  applySchema: boolean,
): Promise<{ db: Store['db']; close: () => Promise<void> }> {
  const store = await openStore(options);
  try {
    await ensureSchema(store, applySchema);
  } catch (error) {
    await store.db.disconnect();
    throw error;
  }
  return { db: store.db, close: () => store.db.disconnect() };
}
