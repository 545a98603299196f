/**
 * What the fault tests share: the compiled service started on a given PostgreSQL database (as a
 * child process, development mode, so it uses the local facilitator), leases to pay, and the
 * audit that compares what paying clients were told with what the ledger holds.
 */
import pg from 'pg';
import { AUTH, activeLease, http } from '../api/support.js';
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import type { StreamTally } from '../support/paying-streams.js';
import { startCompiled, type ServiceProcess } from '../support/service-process.js';

/** The API key the services under test use. */
export const API_KEY = AUTH.authorization.replace('Bearer ', '');

/**
 * Starts the compiled service on `databaseUrl`, its journal and pending file in `dataDir`. All
 * paying clients of a test share one address, so the per-client limit of the access route is
 * lifted (it is a defence against one abusive client, not part of what is tested here).
 */
export function startServiceOn(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  return startCompiled({ LEASING_MODE: 'development', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, API_KEY, LOG_LEVEL: 'info', ACCESS_RATE_LIMIT_MAX: '1000000', ...extra });
}

/** Creates one asset and `count` active leases `L-0` … through the API; returns their ids. */
export async function seedLeases(base: string, count: number, prefix = 'L-'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  // A few at a time: the service is not what is under test here.
  for (let i = 0; i < ids.length; i += 16) {
    await Promise.all(ids.slice(i, i + 16).map((id) => activeLease(base, 'A-RELIABILITY', id)));
  }
  return ids;
}

/** Replays pending payments and resolves journaled settlements (what the service's timer does). */
export async function finishRecovery(base: string): Promise<{ pendingLeft: number; settlementsLeft: number }> {
  const replay = await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH });
  const resolve = await http(base, 'POST', '/api/admin/settlements/resolve', { headers: AUTH });
  if (replay.status !== 200 || resolve.status !== 200) throw new Error(`recovery routes answered ${replay.status}/${resolve.status}`);
  return { pendingLeft: replay.body.remaining as number, settlementsLeft: resolve.body.remaining as number };
}

/** What the ledger holds, read straight from PostgreSQL. */
export interface LedgerAudit {
  /** Settlement hash → rows with it. */
  rows: Map<string, number>;
  /** Hashes clients got a 200 for that are not in the ledger. */
  missing: string[];
  /** Hashes stored more than once (the unique index forbids it; counted anyway). */
  duplicated: string[];
  /** Rows no client was told about (a payment stored though its request failed). */
  unannounced: string[];
  /** Differences reconcile reports between batches and payments. */
  reconcileDifferences: number;
}

/** Compares the 200s of `tally` with the ledger of `databaseUrl`. */
export async function auditLedger(databaseUrl: string, tally: Pick<StreamTally, 'hashes'>): Promise<LedgerAudit> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let rows: Map<string, number>;
  try {
    const result = await client.query<{ hash: string; n: string }>('SELECT facilitator_tx_hash AS hash, count(*) AS n FROM x402_payments GROUP BY 1');
    rows = new Map(result.rows.map((r) => [r.hash, Number(r.n)]));
  } finally {
    await client.end();
  }
  const db = new PostgresDatabase(databaseUrl);
  await db.connect();
  let reconcileDifferences: number;
  try {
    reconcileDifferences = (await db.reconcile()).differences.length;
  } finally {
    await db.disconnect();
  }
  return {
    rows,
    missing: [...tally.hashes.keys()].filter((h) => !rows.has(h)),
    duplicated: [...rows].filter(([, n]) => n !== 1).map(([h]) => h),
    unannounced: [...rows.keys()].filter((h) => !tally.hashes.has(h)),
    reconcileDifferences,
  };
}
