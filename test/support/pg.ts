/**
 * A throwaway PostgreSQL database per test file: `createTestDatabase()` creates `t_<random>` and
 * returns its URL and a `drop()` that removes it (idempotent, WITH (FORCE) so open pools do not
 * block it). The server comes from `TEST_PG_ADMIN_URL`, default
 * `postgres://postgres@127.0.0.1:5432/postgres` (trust auth).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** The maintenance database connection used to create and drop test databases. */
export const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database created for one test file. */
export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  /** Its name (`t_` + 24 hex digits). */
  name: string;
  /** Drops it, terminating any sessions still connected; safe to call twice. */
  drop(): Promise<void>;
}

// Concurrent CREATE DATABASE calls copy template1 and fail with 55006 ("source database is being
// accessed by other users") while another copy is in progress, so that error is retried.
const RETRYABLE = new Set(['55006', '57P03', '53300']);

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 10_000 });
  // An 'error' event from a dying admin connection must not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withRetries<T>(what: string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= 8 || typeof code !== 'string' || !RETRYABLE.has(code)) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${what} failed (PostgreSQL at ${new URL(ADMIN_URL).host}): ${reason}`, { cause: error });
      }
      await sleep(50 * attempt + Math.floor(Math.random() * 50));
    }
  }
}

/**
 * Creates an empty database `t_<random>` (owned by the admin user) for one test file, or, given
 * `copyOf`, a copy of that database as it is (nobody may be connected to it meanwhile; its files
 * are copied, not its WAL replayed, so a large one copies at disk speed).
 */
export async function createTestDatabase(copyOf?: TestDatabase): Promise<TestDatabase> {
  const name = `t_${randomBytes(12).toString('hex')}`;
  const quoted = pg.escapeIdentifier(name);
  const from = copyOf === undefined ? '' : ` TEMPLATE ${pg.escapeIdentifier(copyOf.name)} STRATEGY FILE_COPY`;
  await withRetries(`CREATE DATABASE ${name}`, () => admin((c) => c.query(`CREATE DATABASE ${quoted}${from}`)));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () => {
      dropped ??= withRetries(`DROP DATABASE ${name}`, () =>
        admin(async (c) => {
          await c.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
        }),
      );
      return dropped;
    },
  };
}
