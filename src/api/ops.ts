/**
 * Operational facts shared by the status, readiness, reconcile and metrics routes: the event
 * backlog, whether the schema is current, and reads kept for a while so that repeated calls do
 * not repeat an expensive one.
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

/** A value read at `at`. */
export interface Timed<T> {
  at: Date;
  value: T;
}

/**
 * `read` at most once per `ttlMs`: calls within that time get the last value (with when it was
 * read), and calls while a read runs share it. A failed read is not kept, so the next call tries
 * again.
 */
export function readAtMostEvery<T>(ttlMs: number, read: () => Promise<T>, now: () => Date = () => new Date()): () => Promise<Timed<T>> {
  let last: Timed<T> | undefined;
  let running: Promise<Timed<T>> | undefined;
  return () => {
    if (last !== undefined && now().getTime() - last.at.getTime() < ttlMs) return Promise.resolve(last);
    running ??= read()
      .then((value) => (last = { at: now(), value }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
