/**
 * SQL helpers of the benchmarks: fresh PostgreSQL / PGlite backends with the schema migrated, bulk
 * loading through `importRecords`, capture of the exact statement a read runs, and EXPLAIN plans
 * reduced to the node that does the work.
 */
import pg from 'pg';
import { PgliteDatabase } from '../../src/storage/backends/pglite/pglite-database.js';
import { PostgresDatabase, type PostgresDatabaseOptions } from '../../src/storage/backends/postgres/postgres-database.js';
import type { TableName, TableRecords } from '../../src/storage/contract/transfer.js';
import type { QueryOptions, SqlDriver } from '../../src/storage/backends/sql/driver.js';
import type { SqlDatabase } from '../../src/storage/backends/sql/sql-database.js';
import { createTestDatabase } from '../../test/support/pg.js';
import { info } from './report.js';

/** A statement as the backend sent it. */
export interface Statement {
  text: string;
  params: readonly unknown[];
}

/** A migrated, connected SQL backend plus raw access for EXPLAIN and session settings. */
export interface SqlBench {
  kind: 'postgres' | 'pglite';
  db: SqlDatabase;
  /** Runs raw SQL outside the contract (EXPLAIN, ANALYZE, SET); not through the pool on PostgreSQL. */
  raw(text: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** The connection URL (PostgreSQL only). */
  url?: string;
  /** Disconnects and drops the database. */
  close(): Promise<void>;
}

/**
 * The backend's protected SqlDriver. Benchmarks need it to see the exact SQL a read sends and, on
 * PGlite (one in-process connection, no second client possible), to run EXPLAIN; the contract
 * rightly offers neither, so this reaches past `protected` on purpose.
 */
export function driverOf(db: SqlDatabase): SqlDriver {
  return db['driver'];
}

async function migrate(db: SqlDatabase): Promise<void> {
  const result = await db.migrator().up();
  if (result.error) throw result.error;
}

/** A fresh PostgreSQL test database (test/support/pg.ts) with the schema, and a separate pg Client. */
export async function openPostgres(options: PostgresDatabaseOptions = {}): Promise<SqlBench> {
  const t = await createTestDatabase();
  const db = new PostgresDatabase(t.url, options);
  await db.connect();
  await migrate(db);
  const client = new pg.Client({ connectionString: t.url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    kind: 'postgres',
    db,
    url: t.url,
    raw: async (text, params) => (await client.query(text, params === undefined ? undefined : [...params])).rows as Record<string, unknown>[],
    close: async () => {
      await db.disconnect();
      await client.end().catch(() => undefined);
      await t.drop();
    },
  };
}

/** An in-memory PGlite database with the schema. */
export async function openPglite(): Promise<SqlBench> {
  const db = new PgliteDatabase();
  await db.connect();
  await migrate(db);
  const driver = driverOf(db);
  return {
    kind: 'pglite',
    db,
    raw: async (text, params) => (await driver.query<Record<string, unknown>>(text, params)).rows,
    close: () => db.disconnect(),
  };
}

/**
 * Imports `count` records built by `make(i)` in chunks of `chunk` records (one importRecords call,
 * so one transaction, each), with up to `parallel` chunks in flight. Returns records per second.
 */
export async function bulkImport<T extends TableName>(
  db: SqlDatabase,
  table: T,
  count: number,
  make: (i: number) => TableRecords[T],
  options: { chunk?: number; parallel?: number; label?: string } = {},
): Promise<number> {
  const chunk = options.chunk ?? 5_000;
  const parallel = options.parallel ?? 1;
  const started = performance.now();
  let next = 0;
  let reported = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + chunk);
      const records: TableRecords[T][] = [];
      for (let i = from; i < next; i++) records.push(make(i));
      await db.importRecords(table, records);
      if (next - reported >= 200_000) {
        reported = next;
        info(`${options.label ?? 'import'}: ${table} ${next}/${count}`);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return count / ((performance.now() - started) / 1000);
}

/** PostgreSQL backend pids of the benchmark's database (pool connections and the raw client). */
export async function backendPids(bench: SqlBench): Promise<number[]> {
  const rows = await bench.raw('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  return rows.map((r) => Number(r['pid']));
}

/** Runs `call` and returns the first statement it sent through `driver`. */
export async function captureStatement(driver: SqlDriver, call: () => Promise<unknown>): Promise<Statement> {
  const own = Object.getOwnPropertyDescriptor(driver, 'query');
  const original = driver.query.bind(driver);
  let captured: Statement | undefined;
  driver.query = ((text: string, params?: readonly unknown[], options?: QueryOptions) => {
    captured ??= { text, params: params ?? [] };
    return original(text, params, options);
  }) as SqlDriver['query'];
  try {
    await call();
  } finally {
    if (own) Object.defineProperty(driver, 'query', own);
    else delete (driver as Partial<SqlDriver>).query;
  }
  if (!captured) throw new Error('the call sent no statement');
  return captured;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The node that reads the table, and the node types from the root down to it. */
export interface PlanSummary {
  /** e.g. "Index Scan using leases_lease_id_key", "Bitmap Heap Scan on leases (Bitmap Index Scan using idx_leases_lessor)", "Seq Scan on leases". */
  plan: string;
  /** e.g. "Limit > Index Scan". */
  planPath: string;
  seqScan: boolean;
}

function describeNode(node: PlanNode): string {
  const type = node['Node Type'];
  if (node['Index Name'] !== undefined) return `${type} using ${node['Index Name']}`;
  if (type === 'Bitmap Heap Scan') {
    const inner = node.Plans?.map(describeNode).join(', ');
    return `${type} on ${node['Relation Name'] ?? '?'}${inner ? ` (${inner})` : ''}`;
  }
  if (type === 'BitmapOr' || type === 'BitmapAnd') return `${type}(${(node.Plans ?? []).map(describeNode).join(', ')})`;
  return node['Relation Name'] !== undefined ? `${type} on ${node['Relation Name']}` : type;
}

function findScan(node: PlanNode, path: string[]): { node: PlanNode; path: string[] } | undefined {
  const here = [...path, node['Node Type']];
  if (node['Relation Name'] !== undefined || node['Index Name'] !== undefined) return { node, path: here };
  for (const child of node.Plans ?? []) {
    const found = findScan(child, here);
    if (found) return found;
  }
  return undefined;
}

function hasSeqScan(node: PlanNode): boolean {
  return node['Node Type'] === 'Seq Scan' || (node.Plans ?? []).some(hasSeqScan);
}

/** EXPLAIN (FORMAT JSON) of `statement` with its parameters, summarized. */
export async function explain(bench: SqlBench, statement: Statement): Promise<PlanSummary> {
  const rows = await bench.raw(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.params);
  const cell = rows[0]?.['QUERY PLAN'];
  const doc = (typeof cell === 'string' ? JSON.parse(cell) : cell) as Array<{ Plan: PlanNode }> | undefined;
  const root = doc?.[0]?.Plan;
  if (!root) throw new Error(`EXPLAIN returned no plan for ${statement.text}`);
  const scan = findScan(root, []);
  return {
    plan: scan ? describeNode(scan.node) : describeNode(root),
    planPath: (scan?.path ?? [root['Node Type']]).join(' > '),
    seqScan: hasSeqScan(root),
  };
}
