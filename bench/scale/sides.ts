/**
 * The databases the scale benchmark measures ("sides"): one per layout, made from the
 * project's migrations (the unpartitioned one from those before 007), copied for a step's
 * measurement, read into the page cache before it, and dropped.
 */
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import { COLD_CLAIMS, HOT_CLAIMS } from '../../src/storage/backends/sql/settlement-hashes.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg.js';
import { range, storedAsset, storedLease } from '../support/fixtures.js';
import { info, round } from '../support/report.js';
import { ASSETS, DAYS, HOUR_START, LEASES, type Layout } from './settings.js';
export interface Side {
  layout: Layout;
  t: TestDatabase;
  db: PostgresDatabase;
  client: pg.Client;
  loaded: number;
}

const repoDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The unpartitioned layout's migrations: those before 007, and 010 (time-ordered payment ids),
 * which the payment statements of both layouts call.
 */
async function unpartitionedMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scale-migrations-'));
  for (const file of await readdir(join(repoDir, 'migrations'))) {
    const version = Number(file.slice(0, 3));
    if (/^\d{3}_.*\.sql$/.test(file) && (version < 7 || version === 10)) await copyFile(join(repoDir, 'migrations', file), join(dir, file));
  }
  return dir;
}

/** A session of the bench's own on a database (outside the service's pool). */
export async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The pool every measured store uses: the service's size, connections kept open. */
export const SERVICE_POOL = { max: 20, idleTimeoutMillis: 0 } as const;

/** The bench's pool (the service's size) and its own session on a database. */
async function connect(url: string): Promise<{ db: PostgresDatabase; client: pg.Client }> {
  const db = new PostgresDatabase(url, { pool: SERVICE_POOL });
  await db.connect();
  return { db, client: await session(url) };
}

export async function openSide(layout: Layout): Promise<Side> {
  const t = await createTestDatabase();
  const { db, client } = await connect(t.url);
  if (layout === 'partitioned') {
    const result = await db.migrator().up();
    if (result.error) throw result.error;
    // The history's days (and today) get their partitions before loading, as the service would have made them.
    await client.query(
      `SELECT x402_ensure_payment_partition(d::date) FROM generate_series($1::timestamptz - interval '${DAYS + 1} days', $1::timestamptz + interval '1 day', interval '1 day') AS d`,
      [new Date(HOUR_START)],
    );
  } else {
    const dir = await unpartitionedMigrations();
    try {
      const result = await db.migrator({ dir }).up();
      if (result.error) throw result.error;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    for (const table of [HOT_CLAIMS, COLD_CLAIMS]) {
      await client.query(`CREATE TABLE ${table} (
        facilitator_tx_hash VARCHAR(66) COLLATE "C" PRIMARY KEY, lease_id VARCHAR(255) NOT NULL, payment_id UUID NOT NULL, payment_timestamp TIMESTAMPTZ NOT NULL)`);
    }
    // Migration 011's byte-wise hashes, as on the partitioned side (here the payment table's own
    // unique hash index is the one rebuilt).
    await client.query(`ALTER TABLE x402_payments ALTER COLUMN facilitator_tx_hash TYPE VARCHAR(66) COLLATE "C"`);
    // Migration 014's cold claims filter, which the payment statement reads (the claims tables stay empty here).
    await client.query(await readFile(join(repoDir, 'migrations', '014_cold_claims_filter.sql'), 'utf8'));
  }
  info(`scale: ${layout} in database ${t.name}`);
  await db.importRecords('assets', range(0, ASSETS, storedAsset));
  await db.importRecords('leases', range(0, LEASES, (i) => ({ ...storedLease(i, ASSETS), status: 'active' as const })));
  return { layout, t, db, client, loaded: 0 };
}

/**
 * A copy of `side`'s database as it is, with its own sessions. The side's sessions close for the
 * copy (a database is copied only with nobody connected) and open again.
 */
export async function copySide(side: Side): Promise<Side> {
  await side.db.disconnect();
  // An autovacuum worker on the database would refuse the copy (it is retried, but a long vacuum outlasts the retries).
  await side.client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'autovacuum worker'`);
  await side.client.end();
  const started = performance.now();
  const t = await createTestDatabase(side.t);
  info(`scale: the ${side.loaded}-row ${side.layout} database copied to ${t.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  Object.assign(side, await connect(side.t.url));
  return { layout: side.layout, t, ...(await connect(t.url)), loaded: side.loaded };
}

/**
 * Reads every table and index of `side`'s database into the operating system's page cache
 * (pg_prewarm's `read` mode, which bypasses shared_buffers), as a service that has run a while
 * holds the database it keeps touching, when the machine's memory can hold it. Why: a 20 M step's
 * load writes its tables, indexes, WAL and the compaction's rewrites, about three times the
 * database, in ten minutes, so right after it part of the database had left the cache although
 * memory was free (run 27: 8.3 of the 12.6 GB resident, 12 GB free; 1.1 of the cold claims' 2.6 GB
 * heap), and a lookup of a random old payment read from disk depending on where the load had put
 * it. Every measured database gets it alike, right before its step's checkpoint. Then the claims'
 * keys go into shared_buffers too, when it can hold them ({@link prewarmClaimKeys}).
 */
export async function prewarm(side: Side): Promise<void> {
  const started = performance.now();
  await side.client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const { rows } = await side.client.query<{ blocks: string }>(
    `SELECT COALESCE(SUM(pg_prewarm(c.oid, 'read')), 0)::text AS blocks
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'i', 't', 'm') AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  info(`scale: ${side.layout} ${side.loaded} rows: ${round((Number(rows[0]?.blocks) * 8192) / 1e9, 2)} GB read into the page cache in ${round((performance.now() - started) / 1000, 1)} s`);
  await prewarmClaimKeys(side);
}

/** What the pool keeps for the rest of the work when the claims' keys are loaded: PostgreSQL's default pool. */
const POOL_LEFT_OVER = 128 * 1024 * 1024;

/**
 * Loads the settlement-hash claims' keys into shared_buffers (pg_prewarm's `buffer` mode) when the
 * pool holds them with {@link POOL_LEFT_OVER} to spare for everything else: every payment probes
 * them, and a server whose pool can hold them has them there once it has run a while (or at once,
 * with pg_prewarm's autoprewarm). A bulk load and a compaction write through a small ring of
 * buffers, so right after a step's load the pool holds none of them whatever its size (runs 32
 * and 33 in docs/scale.md). With the default pool (128 MB) nothing is ever loaded, and the
 * measurement is what it was before run 38.
 */
async function prewarmClaimKeys(side: Side): Promise<void> {
  const { rows } = await side.client.query<{ name: string; bytes: string; pool: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_relation_size(i.indexrelid)::text AS bytes,
            pg_size_bytes(current_setting('shared_buffers'))::text AS pool
       FROM pg_index i WHERE i.indrelid IN ('${HOT_CLAIMS}'::regclass, '${COLD_CLAIMS}'::regclass)`,
  );
  const bytes = rows.reduce((sum, r) => sum + Number(r.bytes), 0);
  const pool = Number(rows[0]?.pool ?? 0);
  if (rows.length === 0 || bytes + POOL_LEFT_OVER > pool) return;
  const started = performance.now();
  for (const r of rows) await side.client.query(`SELECT pg_prewarm($1::regclass, 'buffer')`, [r.name]);
  info(`scale: ${side.layout} ${side.loaded} rows: the claims' keys (${round(bytes / 1e9, 2)} GB) read into shared_buffers (${round(pool / 1e9, 1)} GB) in ${round((performance.now() - started) / 1000, 1)} s`);
}

/** Closes `side`'s sessions and drops its database. */
export async function dropSide(side: Side): Promise<void> {
  await side.db.disconnect().catch(() => undefined);
  await side.client.end().catch(() => undefined);
  await side.t.drop();
}
