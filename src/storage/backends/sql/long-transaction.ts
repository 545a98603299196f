/**
 * Transactions for maintenance statements that scan a whole day of payments (a compaction's copy,
 * retention's audits and the lookups of what a day refers to). At production volume a day is tens
 * of millions of rows, and one such statement takes longer than the pool's `statement_timeout`
 * (30 s by default), which is sized for the service's own statements.
 */
import type { SqlDriver, SqlExecutor } from './driver.js';

/** Runs `work` in one transaction whose statements have no time limit (`SET LOCAL statement_timeout = 0`). */
export function longTransaction<T>(driver: SqlDriver, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return driver.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    return work(tx);
  });
}
