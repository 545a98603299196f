/**
 * Operational facts shared by the status, readiness and metrics routes: the event backlog and
 * whether the schema is current.
 */
import type { Database } from '../storage/contract/database.js';
import type { SchemaManager } from '../storage/contract/database.js';

/** Unprocessed events (the ingestion backlog). */
export async function eventBacklog(db: Database): Promise<{ count: number }> {
  return { count: await db.countUnprocessedEvents() };
}

/** Migrations that are not applied (pending, drifted, missing); empty when the schema is current. */
export async function schemaProblems(schema: SchemaManager): Promise<Array<{ version: number; name: string; state: string }>> {
  const statuses = await schema.status();
  return statuses.filter((s) => s.state !== 'applied').map((s) => ({ version: s.version, name: s.name, state: s.state }));
}
