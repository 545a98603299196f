/**
 * Schema migration results, as every store reports them through its {@link SchemaManager}
 * (the SQL backends run `migrations/NNN_name.sql`; memory has no schema).
 */
import type { StorageError } from './errors.js';

/**
 * `applied`: in the ledger with the same sha256 and name; `pending`: not in the ledger;
 * `drifted`: in the ledger but the file changed since; `missing`: in the ledger, file gone.
 */
export type MigrationState = 'applied' | 'pending' | 'drifted' | 'missing';

/** One line of {@link SchemaManager.status}. */
export interface MigrationStatus {
  version: number;
  name: string;
  state: MigrationState;
  /** When it was applied (not for `pending`). */
  appliedAt?: Date;
}

/** What happened to one pending migration during {@link SchemaManager.up}. */
export interface MigrationResult {
  version: number;
  name: string;
  status: 'Success' | 'Error' | 'NotExecuted';
  error?: StorageError;
}

/** The outcome of {@link SchemaManager.up}; `error` is set when anything failed or was refused. */
export interface MigrateUpResult {
  /** Migrations applied by this call, in order. */
  applied: Array<{ version: number; name: string }>;
  /** One entry per migration that was pending when the run started. */
  results: MigrationResult[];
  error?: StorageError;
}

/** Applies and reports schema migrations; a no-op for a backend without a schema (memory). */
export interface SchemaManager {
  status(): Promise<MigrationStatus[]>;
  up(): Promise<MigrateUpResult>;
}
