/**
 * Issue 14: the plans PostgreSQL keeps for the payment statements (payment-statements.ts). The
 * cached (generic) plan of a group must look each lease up by its key, not read every active
 * lease; and the one-payment statement must be planned once and then reused, not planned again on
 * every call (which cost the ungrouped path about half its throughput). The same for the lookup of
 * a payment by its settlement hash, whose planning over every day partition cost more than its run
 * (with the hash in an array PostgreSQL plans it anew on every call), and whose cached plan reads
 * the cold claims only for a hash the hot ones do not hold. And on a table without statistics (a
 * fresh migration before autovacuum analyzes it), a group still looks its leases up by key.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../src/storage/backends/postgres/postgres-database.js';
import { RECORD_ONE_PAYMENT_SQL, RECORD_PAYMENTS_SQL } from '../src/storage/backends/sql/payment-statements.js';
import { ONE_HASH_LOOKUP } from '../src/storage/backends/sql/settlement-hashes.js';
import { hourBucketOf } from '../src/storage/core/time.js';
import { hash, seedLease } from './conformance/fixtures.js';
import { createTestDatabase, type TestDatabase } from './support/pg.js';

/** The group statement's parameters: nine arrays and the cold claims filter's version. */
const GROUP_TYPES = 'text[], text[], int[], numeric[], text[], timestamptz[], text[], timestamptz[], bool[], bigint';

/** A migrated test database with `seeded` active leases and 1,000 more copied from the first in SQL. */
interface PlanDatabase {
  t: TestDatabase;
  db: PostgresDatabase;
  client: pg.Client;
  leaseIds: string[];
}

async function planDatabase(seeded: number): Promise<PlanDatabase> {
  const t = await createTestDatabase();
  const db = new PostgresDatabase(t.url);
  await db.connect();
  const migrated = await db.migrator().up();
  if (migrated.error) throw migrated.error;
  const leaseIds: string[] = [];
  for (let i = 0; i < seeded; i++) leaseIds.push((await seedLease(db, { status: 'active' })).leaseId);
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  // As many active leases as the payments benchmark has: with a handful the planner would look
  // leases up by key whatever the statement says.
  await client.query(
    `INSERT INTO leases (lease_id, asset_id, chain_id, contract_address, lessor, lessee, status, transaction_hash)
     SELECT 'PLAN-' || n, asset_id, chain_id, contract_address, lessor, lessee, 'active', transaction_hash
     FROM leases, generate_series(1, 1000) AS n WHERE lease_id = $1`,
    [leaseIds[0]],
  );
  return { t, db, client, leaseIds };
}

async function closePlanDatabase(p: PlanDatabase | undefined): Promise<void> {
  await p?.client.end();
  await p?.db.disconnect();
  await p?.t.drop();
}

let client: pg.Client;
let leaseIds: string[] = [];
let planned: PlanDatabase | undefined;

beforeAll(async () => {
  planned = await planDatabase(20);
  ({ client, leaseIds } = planned);
  // Statistics that know how many leases there are.
  await client.query('ANALYZE leases');
});

afterAll(() => closePlanDatabase(planned));

let nextHash = 0x5100;
/** One payment's nine values, in the statements' parameter order (its hash probed in the cold claims). */
function payment(leaseId: string): unknown[] {
  const at = new Date();
  return [leaseId, 'second', 1, '5', null, at.toISOString(), hash(nextHash++), hourBucketOf(at), true];
}

/** The version of the cold claims filter sent with the values: none loaded (every hash probed). */
const NO_FILTER_VERSION = '-1';

/** A value as an SQL literal (EXECUTE takes no parameters); the prepared types do the casts. */
function literal(value: unknown): string {
  if (value === null) return 'NULL';
  // An array literal of unknown type, so each column takes its parameter's element type.
  if (Array.isArray(value)) return pg.escapeLiteral(`{${value.map((v) => (v === null ? 'NULL' : `"${String(v).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`);
  return pg.escapeLiteral(String(value));
}

/** The plan text of `EXPLAIN EXECUTE name(values)` (run in a rolled-back transaction). */
async function explain(name: string, values: unknown[]): Promise<string> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) EXECUTE ${name}(${values.map(literal).join(', ')})`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
  }
}

/** The plan of `EXPLAIN (ANALYZE, BUFFERS) EXECUTE name(values)`, with each node's actual rows and buffers (run in a rolled-back transaction). */
async function explainAnalyzed(name: string, values: unknown[]): Promise<string> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE ${name}(${values.map(literal).join(', ')})`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
  }
}

/** How often the server planned the prepared statement `name` anew, and how often it reused its plan. */
async function planCounts(name: string): Promise<{ custom: number; generic: number }> {
  const { rows } = await client.query<{ custom_plans: string; generic_plans: string }>('SELECT custom_plans, generic_plans FROM pg_prepared_statements WHERE name = $1', [name]);
  return { custom: Number(rows[0]?.custom_plans), generic: Number(rows[0]?.generic_plans) };
}

describe('the payment statements plans (PostgreSQL)', () => {
  it("a group's cached plan looks each lease up by its key", async () => {
    await client.query(`PREPARE group_plan(${GROUP_TYPES}) AS ${RECORD_PAYMENTS_SQL}`);
    await client.query('SET plan_cache_mode = force_generic_plan');
    try {
      const rows = leaseIds.slice(0, 8).map(payment);
      const columns = Array.from({ length: 9 }, (_, c) => rows.map((r) => r[c]));
      const plan = await explain('group_plan', [...columns, NO_FILTER_VERSION]);
      expect(plan).toMatch(/Index Scan using \S+ on leases/);
      expect(plan).not.toMatch(/(Seq Scan|Bitmap Heap Scan) on leases/);
    } finally {
      await client.query('RESET plan_cache_mode');
    }
  });

  it('one payment is planned a few times, then its plan is reused', async () => {
    // Prepared the way the store prepares it: a named statement of the protocol.
    for (let i = 0; i < 12; i++) {
      const { rowCount } = await client.query({ name: 'one_payment', text: RECORD_ONE_PAYMENT_SQL, values: [...payment(leaseIds[i % leaseIds.length] as string), NO_FILTER_VERSION] });
      expect(rowCount).toBe(1);
    }
    const counts = await planCounts('one_payment');
    // PostgreSQL plans the first five calls anew, then keeps the cached plan when it looks no worse.
    expect(counts.custom).toBeLessThanOrEqual(5);
    expect(counts.generic).toBeGreaterThanOrEqual(7);
    const plan = await explain('one_payment', [...payment(leaseIds[0] as string), NO_FILTER_VERSION]);
    expect(plan).toMatch(/Index Scan using \S+ on leases/);
  });

  it('the lookup by settlement hash is planned a few times, then its plan is reused', async () => {
    const hashes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const values = [...payment(leaseIds[i % leaseIds.length] as string), NO_FILTER_VERSION];
      await client.query({ name: 'one_payment', text: RECORD_ONE_PAYMENT_SQL, values });
      hashes.push(values[6] as string);
    }
    for (const h of hashes) {
      const { rows } = await client.query<{ claimed_hash: string; id: string | null }>({ name: ONE_HASH_LOOKUP.name, text: ONE_HASH_LOOKUP.text, values: [h] });
      expect(rows.map((r) => [r.claimed_hash, r.id !== null])).toEqual([[h, true]]);
    }
    const counts = await planCounts(ONE_HASH_LOOKUP.name);
    expect(counts.custom).toBeLessThanOrEqual(5);
    expect(counts.generic).toBeGreaterThanOrEqual(7);

    // Its cached plan reads the cold claims only for a hash the hot ones do not hold: a payment
    // just made (hot) costs no descent into the cold key, which grows with the whole history.
    // (Cold claims of old payments, enough for the planner to probe their key by index.)
    await client.query(
      `INSERT INTO x402_settlement_hashes_cold SELECT '0x' || md5(n::text) || md5('c' || n), 'OLD', gen_random_uuid(), now() - interval '30 days'
       FROM generate_series(1, 20000) AS n`,
    );
    await client.query('ANALYZE x402_settlement_hashes_cold');
    const hot = hashes[0] as string;
    /** The cold claims' scan in the cached plan: its rows and the buffers it and its children touched. */
    const coldScan = async (h: string) => {
      const plan = await explainAnalyzed(ONE_HASH_LOOKUP.name, [h]);
      const scan = /-> {2}([A-Za-z ]+?Scan)(?: using \S+)? on x402_settlement_hashes_cold \(actual rows=(\d+)[^\n]*\n((?: {10,}[^\n]*\n)*)/.exec(`${plan}\n`);
      expect(scan, plan).not.toBeNull();
      return { rows: Number(scan?.[2]), buffers: /Buffers: shared hit=(\d+)/.exec(scan?.[3] ?? '')?.[1] ?? '0' };
    };
    expect(await coldScan(hot)).toEqual({ rows: 0, buffers: '0' });
    expect(await coldScan(hash(0xfffff))).toMatchObject({ rows: 0, buffers: expect.not.stringMatching(/^0$/) });
    // Moved to the cold table, the same hash is found there, by the same cached plan.
    await client.query(
      `WITH moved AS (DELETE FROM x402_settlement_hashes WHERE facilitator_tx_hash = $1 RETURNING *) INSERT INTO x402_settlement_hashes_cold SELECT * FROM moved`,
      [hot],
    );
    expect(await coldScan(hot)).toMatchObject({ rows: 1 });
    const { rows } = await client.query<{ claimed_hash: string; id: string | null }>({ name: ONE_HASH_LOOKUP.name, text: ONE_HASH_LOOKUP.text, values: [hot] });
    expect(rows.map((r) => [r.claimed_hash, r.id !== null])).toEqual([[hot, true]]);
    expect((await planCounts(ONE_HASH_LOOKUP.name)).generic).toBeGreaterThanOrEqual(9);
  });
});

describe('the payment statements plans without statistics (PostgreSQL)', () => {
  // A freshly loaded table, as a migration or a restore leaves it until autovacuum analyzes it.
  let fresh: PlanDatabase | undefined;
  beforeAll(async () => {
    fresh = await planDatabase(8);
  });
  afterAll(() => closePlanDatabase(fresh));

  it("a group looks each lease up by its key, not through the status index", async () => {
    const { client: raw, leaseIds: ids } = fresh as PlanDatabase;
    await raw.query(`PREPARE fresh_group(${GROUP_TYPES}) AS ${RECORD_PAYMENTS_SQL}`);
    const rows = Array.from({ length: 64 }, (_, i) => payment(ids[i % ids.length] as string));
    const columns = Array.from({ length: 9 }, (_, c) => rows.map((r) => r[c]));
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await raw.query(`SET plan_cache_mode = ${mode}`);
      await raw.query('BEGIN');
      try {
        const { rows: plan } = await raw.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) EXECUTE fresh_group(${[...columns, NO_FILTER_VERSION].map(literal).join(', ')})`);
        const text = plan.map((r) => r['QUERY PLAN']).join('\n');
        expect(text, mode).toMatch(/Index Scan using leases_lease_id_key on leases/);
        expect(text, mode).not.toMatch(/idx_leases_status|(Seq Scan|Bitmap Heap Scan) on leases/);
      } finally {
        await raw.query('ROLLBACK');
      }
    }
  });
});
