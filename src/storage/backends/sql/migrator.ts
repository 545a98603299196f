/**
 * The migration runner: applies `migrations/NNN_name.sql` in order, each file and its ledger row
 * in one transaction, under the driver's migration lock. Like kysely's Migrator, `up()` reports
 * failures in its result instead of throwing.
 */
import { StorageError } from '../../contract/errors.js';
import type { MigrateUpResult, MigrationResult, MigrationState, MigrationStatus } from '../../contract/schema.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles, type MigrationFile } from './migration-files.js';

/** The ledger of applied migrations. */
export const LEDGER_TABLE = 'schema_migrations';
const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  sha256 CHAR(64) NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;
const INSERT_LEDGER = 'INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)';
/** What migration 001 creates; `baseline()` checks a hand-made database has all of it. */
const BASELINE_TABLES = ['assets', 'leases', 'events', 'x402_payments', 'x402_batches'];
const BASELINE_FUNCTION = 'update_updated_at_column';
const BASELINE_TRIGGERS = ['update_assets_updated_at', 'update_leases_updated_at'];

export type { MigrateUpResult, MigrationResult, MigrationState, MigrationStatus };

/** Options of a {@link Migrator}. */
export interface MigratorOptions {
  /** Directory of `NNN_name.sql` files (default `<repo>/migrations`). */
  dir?: string;
  /** How long to wait for another migrator's lock (default 60 000 ms), then TIMEOUT. */
  lockTimeoutMs?: number;
}

interface LedgerRow {
  version: number;
  name: string;
  sha256: string;
  applied_at: Date;
}

async function ledgerExists(db: SqlExecutor): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1) AS present',
    [LEDGER_TABLE],
  );
  return rows[0]?.present === true;
}

async function readLedger(db: SqlExecutor): Promise<LedgerRow[]> {
  if (!(await ledgerExists(db))) return [];
  const { rows } = await db.query<LedgerRow>('SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY version');
  return rows;
}

function compare(files: MigrationFile[], ledger: LedgerRow[]): MigrationStatus[] {
  const byVersion = new Map(ledger.map((row) => [row.version, row]));
  const statuses: MigrationStatus[] = files.map((file) => {
    const row = byVersion.get(file.version);
    if (row === undefined) return { version: file.version, name: file.name, state: 'pending' };
    byVersion.delete(file.version);
    const same = row.sha256 === file.sha256 && row.name === file.name;
    return { version: file.version, name: file.name, state: same ? 'applied' : 'drifted', appliedAt: row.applied_at };
  });
  for (const row of byVersion.values()) {
    statuses.push({ version: row.version, name: row.name, state: 'missing', appliedAt: row.applied_at });
  }
  return statuses.sort((a, b) => a.version - b.version);
}

/** Why the history forbids running anything: drifted or missing files, or an out-of-order file. */
function historyProblem(statuses: MigrationStatus[]): StorageError | undefined {
  const label = (s: MigrationStatus) => `${String(s.version).padStart(3, '0')}_${s.name}`;
  const broken = statuses.filter((s) => s.state === 'drifted' || s.state === 'missing');
  if (broken.length > 0) {
    const list = broken.map((s) => `${label(s)} (${s.state})`).join(', ');
    return new StorageError('CONFLICT', `applied migrations no longer match their files: ${list}; restore them and add a new migration instead`, {
      details: { migrations: broken.map((s) => ({ version: s.version, state: s.state })) },
    });
  }
  const lastApplied = Math.max(0, ...statuses.filter((s) => s.state === 'applied').map((s) => s.version));
  const early = statuses.filter((s) => s.state === 'pending' && s.version < lastApplied);
  if (early.length > 0) {
    return new StorageError('CONFLICT', `pending migrations are older than applied ${lastApplied}: ${early.map(label).join(', ')}; renumber them`, {
      details: { versions: early.map((s) => s.version) },
    });
  }
  return undefined;
}

/** Applies, reports and adopts schema migrations through any {@link SqlDriver}. */
export class Migrator {
  private readonly dir: string;
  private readonly lockTimeoutMs: number;

  /** `driver` must be open. */
  constructor(
    private readonly driver: SqlDriver,
    options: MigratorOptions = {},
  ) {
    this.dir = options.dir ?? DEFAULT_MIGRATIONS_DIR;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  }

  /** Every migration known to the files or the ledger, by version (files re-hashed). Read-only. */
  async status(): Promise<MigrationStatus[]> {
    const files = await readMigrationFiles(this.dir);
    try {
      return compare(files, await readLedger(this.driver));
    } catch (error) {
      throw mapDriverError(error, 'migrate status');
    }
  }

  /**
   * Applies every pending migration in order, each with its ledger row in one transaction,
   * holding the migration lock throughout; the ledger is read inside the lock, so a concurrent
   * migrator finds the work done. Runs nothing when an applied file drifted or vanished, or a
   * pending file is older than an applied one. Never throws: failures are in `error`.
   */
  async up(): Promise<MigrateUpResult> {
    try {
      const files = await readMigrationFiles(this.dir);
      return await this.driver.withMigrationLock(this.lockTimeoutMs, async (session) => {
        await session.query(LEDGER_DDL);
        const statuses = compare(files, await readLedger(session));
        const pending = files.filter((f) => statuses.some((s) => s.version === f.version && s.state === 'pending'));
        const refused = historyProblem(statuses);
        if (refused !== undefined) {
          return { applied: [], results: pending.map((f) => ({ version: f.version, name: f.name, status: 'NotExecuted' as const })), error: refused };
        }
        return this.apply(pending);
      });
    } catch (error) {
      return { applied: [], results: [], error: mapDriverError(error, 'migrate up') };
    }
  }

  private async apply(pending: MigrationFile[]): Promise<MigrateUpResult> {
    const outcome: MigrateUpResult = { applied: [], results: [] };
    for (const file of pending) {
      const { version, name } = file;
      if (outcome.error !== undefined) {
        outcome.results.push({ version, name, status: 'NotExecuted' });
        continue;
      }
      try {
        await this.driver.transaction(async (tx) => {
          await tx.query(file.sql);
          await tx.query(INSERT_LEDGER, [version, name, file.sha256]);
        });
        outcome.applied.push({ version, name });
        outcome.results.push({ version, name, status: 'Success' });
      } catch (error) {
        outcome.error = mapDriverError(error, `migration ${file.fileName} failed`);
        outcome.results.push({ version, name, status: 'Error', error: outcome.error });
      }
    }
    return outcome;
  }

  /**
   * Adopts a database whose schema was created by hand from the guide: checks that migration
   * 001's tables, trigger function and triggers exist, then records 001 as applied without
   * running it. Throws CONFLICT when the ledger already has rows or an object is missing.
   */
  async baseline(): Promise<{ version: number; name: string }> {
    const files = await readMigrationFiles(this.dir);
    const first = files.find((f) => f.version === 1);
    if (first === undefined) {
      throw new StorageError('VALIDATION', `no migration 001 in ${this.dir}`, { field: 'dir' });
    }
    try {
      return await this.driver.withMigrationLock(this.lockTimeoutMs, async (session) => {
        if ((await readLedger(session)).length > 0) {
          throw new StorageError('CONFLICT', 'baseline refused: the database already has migration history (use migrate up)');
        }
        const missing = await missingBaselineObjects(session);
        if (missing.length > 0) {
          throw new StorageError('CONFLICT', `baseline refused: the database lacks ${missing.join(', ')} (run migrate up on an empty database instead)`, {
            details: { missing },
          });
        }
        await this.driver.transaction(async (tx) => {
          await tx.query(LEDGER_DDL);
          await tx.query(INSERT_LEDGER, [first.version, first.name, first.sha256]);
        });
        return { version: first.version, name: first.name };
      });
    } catch (error) {
      throw mapDriverError(error, 'migrate baseline');
    }
  }
}

async function missingBaselineObjects(db: SqlExecutor): Promise<string[]> {
  const tables = await db.query<{ name: string }>('SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = current_schema()');
  const functions = await db.query<{ name: string }>(
    `SELECT p.proname AS name FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = current_schema() AND p.proname = $1`,
    [BASELINE_FUNCTION],
  );
  const triggers = await db.query<{ name: string }>(
    `SELECT t.tgname AS name FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()`,
  );
  const present = new Set([...tables.rows, ...functions.rows, ...triggers.rows].map((row) => row.name));
  const wanted = [
    ...BASELINE_TABLES.map((t) => ({ name: t, label: `table ${t}` })),
    { name: BASELINE_FUNCTION, label: `function ${BASELINE_FUNCTION}()` },
    ...BASELINE_TRIGGERS.map((t) => ({ name: t, label: `trigger ${t}` })),
  ];
  return wanted.filter((w) => !present.has(w.name)).map((w) => w.label);
}
