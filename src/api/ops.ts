/**
 * Operational facts shared by the status, readiness and metrics routes: pool statistics when the
 * backend has a pool, the event backlog, and whether the schema is current.
 */
import type { Database } from '../storage/database.js';
import type { SchemaManager } from '../storage/create-database.js';
import type { PoolStats } from '../storage/sql/driver.js';

/** Largest backlog counted exactly; the contract has no count query, so larger is reported capped. */
export const BACKLOG_CAP = 1000;

/** Pool statistics if the backend exposes them (the SQL backends do), else null. */
export function poolStatsOf(db: Database): PoolStats | null {
  const candidate = db as Database & { poolStats?: unknown };
  return typeof candidate.poolStats === 'function' ? (candidate.poolStats as () => PoolStats).call(db) : null;
}

/** Unprocessed events, counted up to {@link BACKLOG_CAP}. */
export async function eventBacklog(db: Database): Promise<{ count: number; capped: boolean }> {
  const events = await db.getUnprocessedEvents(BACKLOG_CAP);
  return { count: events.length, capped: events.length >= BACKLOG_CAP };
}

/** Migrations that are not applied (pending, drifted, missing); empty when the schema is current. */
export async function schemaProblems(schema: SchemaManager): Promise<Array<{ version: number; name: string; state: string }>> {
  const statuses = await schema.status();
  return statuses.filter((s) => s.state !== 'applied').map((s) => ({ version: s.version, name: s.name, state: s.state }));
}
