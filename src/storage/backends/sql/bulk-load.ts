/**
 * Loading an empty store as a restore does, and table digests computed by the database. In one
 * transaction: the five tables are locked and found empty, their unique and secondary indexes,
 * foreign keys and keys not led by `id` are dropped (their definitions kept as the catalog gives
 * them, so this follows whatever the migrations made), the rows are streamed in with COPY,
 * everything dropped is created again (which checks uniqueness and references over the whole data
 * at once), the digests are computed in SQL, and only when the caller accepts them is the
 * transaction committed. One COPY is in flight while the next chunks are prepared (record lines
 * parsed, validated and encoded on encoder threads, copy-encoders.ts), and each payment day's
 * partition is made before its rows arrive. The load times its steps (BulkLoadResult.stepMs).
 */
import { TABLES, isLinesChunk, type BulkLoadResult, type TableChunk, type TableDigestValue, type TableLinesChunk, type TableName } from '../../contract/transfer.js';
import { toBigInt, toSafeInt, type Row } from './codecs.js';
import type { BulkExecutor, SqlDriver, SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';
import { DAY_MS } from '../../core/time.js';
import { DEFAULT_PARTITION, ensurePaymentPartitions, utcDay } from './partitions.js';
import { AMOUNT_COLUMN, COLUMNS } from './records.js';
import { CopyEncoders } from './copy-encoders.js';
import { encodeChunk, type EncodedChunk } from './copy-encoding.js';
import { COLD_CLAIMS, HOT_CLAIMS } from './settlement-hashes.js';

/** Thrown inside the load's transaction to roll it back while still returning a result. */
class Abandon extends Error {
  constructor(readonly result: BulkLoadResult | null) {
    super('bulk load abandoned');
  }
}

/** The digest of `table` in one statement: count, money total, sha256 of the sorted ids. */
export async function digestTableSql(executor: SqlExecutor, table: TableName): Promise<TableDigestValue> {
  const amount = AMOUNT_COLUMN[table];
  const sum = amount ? `COALESCE(SUM(${amount}), 0)::text` : `'0'`;
  // The same bytes TableDigest hashes in Node: each id (lowercase canonical UUID, so uuid order is
  // string order) followed by a newline.
  const { rows } = await executor.query<Row>(
    `SELECT COUNT(*) AS count, ${sum} AS amount_sum,
       encode(sha256(convert_to(COALESCE(string_agg(id::text || E'\\n', '' ORDER BY id), ''), 'UTF8')), 'hex') AS ids_sha256
     FROM ${table}`,
    [],
  );
  const row = rows[0] ?? {};
  return { count: toSafeInt(row['count'], 'count'), amountSum: toBigInt(row['amount_sum'], 'amount_sum'), idsSha256: String(row['ids_sha256']) };
}

/** See RecordTransfer.loadEmpty; null (nothing read or changed) when the driver has no COPY. */
export async function loadEmpty(
  driver: SqlDriver,
  chunks: AsyncIterable<TableChunk | TableLinesChunk>,
  accept: (digests: Record<TableName, TableDigestValue>) => Promise<boolean>,
): Promise<BulkLoadResult | null> {
  if (!driver.bulkTransaction) return null;
  try {
    return await driver.bulkTransaction(async (tx: BulkExecutor) => {
      // Where the time goes, step by step (the copy step includes waiting for the caller's chunks).
      const stepMs: Record<string, number> = {};
      let mark = performance.now();
      const step = (name: string) => {
        const now = performance.now();
        stepMs[name] = Math.round((stepMs[name] ?? 0) + now - mark);
        mark = now;
      };
      // The encoder threads load their modules while the tables are locked and prepared.
      const encoders = new CopyEncoders();
      encoders.start();
      try {
        // Nobody reads or writes these tables until the load commits or rolls back.
        // The settlement-hash claims (migrations 007 and 008) count too: they outlive retention,
        // and a hash they already hold must go through the careful path, which refuses it by name.
        const locked = [...TABLES, HOT_CLAIMS, COLD_CLAIMS];
        await tx.query(`LOCK TABLE ${locked.join(', ')} IN ACCESS EXCLUSIVE MODE`, []);
        const { rows } = await tx.query<Row>(`SELECT ${locked.map((t) => `EXISTS (SELECT 1 FROM ${t}) AS "${t}"`).join(', ')}`, []);
        if (locked.some((t) => rows[0]?.[t] === true)) throw new Abandon(null);
        // Index builds sort in memory up to this much (this transaction only).
        await tx.query(`SET LOCAL maintenance_work_mem = '256MB'`, []);
        const dropped = await dropIndexesAndKeys(tx);
        step('prepare');
        // The rows stream in while the next chunks are read, checked and encoded: the server stores
        // rows while Node parses, instead of each waiting for the other. Record lines are encoded
        // on threads, several chunks ahead, so the main thread only reads and sends. Chunks of one
        // table go in one COPY; it ends only where the table changes or a payment chunk brings a
        // new day, whose partition is made before its rows arrive (none pass through the DEFAULT
        // partition: moving them out afterwards rewrites them all).
        const days = new Set<number>();
        const encoded = inOrder(chunks, encoders)[Symbol.asyncIterator]();
        try {
          let next = await encoded.next();
          while (!next.done) {
            const first = next.value;
            if (first.table === 'x402_payments') await ensurePaymentPartitions(tx, newDays(first.days, days));
            next = await copyRun(tx, first, encoded, days);
          }
        } finally {
          // Stops reading the source when the load failed part way.
          await encoded.return(undefined);
        }
        await encoders.close();
        step('copy');
        await placePaymentsLikeEveryWriter(tx, step);
        for (const { kind, sql } of dropped) {
          await tx.query(sql, []);
          step(kind);
        }
        const digests = {} as Record<TableName, TableDigestValue>;
        for (const table of TABLES) digests[table] = await digestTableSql(tx, table);
        step('digests');
        if (!(await accept(digests))) throw new Abandon({ committed: false, digests, stepMs });
        step('accept');
        return { committed: true, digests, stepMs };
      } finally {
        await encoders.close();
      }
    });
  } catch (error) {
    if (error instanceof Abandon) return error.result;
    throw mapDriverError(error, 'load empty store');
  }
}

/** How many chunks are encoded ahead of the one being sent. */
const LOOKAHEAD = 4;

/**
 * Sends `first` and the chunks after it that can share its COPY (same table; for payments, no day
 * whose partition is not made yet) in one COPY; returns what `encoded` gave next.
 */
async function copyRun(tx: BulkExecutor, first: EncodedChunk, encoded: AsyncIterator<EncodedChunk>, days: ReadonlySet<number>): Promise<IteratorResult<EncodedChunk>> {
  let after: IteratorResult<EncodedChunk> = { done: true, value: undefined };
  const payments = first.table === 'x402_payments';
  async function* rows(): AsyncGenerator<Uint8Array> {
    yield first.rows;
    for (;;) {
      after = await encoded.next();
      if (after.done || after.value.table !== first.table || (payments && after.value.days.some((d) => !days.has(d)))) return;
      yield after.value.rows;
    }
  }
  await tx.copyIn(first.table, COLUMNS[first.table].map(([name]) => name), rows());
  return after;
}

/**
 * The chunks encoded (record lines on the encoder threads, records here), in their order, up to
 * {@link LOOKAHEAD} being encoded ahead of the one returned.
 */
async function* inOrder(chunks: AsyncIterable<TableChunk | TableLinesChunk>, encoders: CopyEncoders): AsyncGenerator<EncodedChunk> {
  const queue: Promise<EncodedChunk>[] = [];
  for await (const chunk of chunks) {
    if (isLinesChunk(chunk) ? chunk.count === 0 : chunk.records.length === 0) continue;
    const encoded = isLinesChunk(chunk) ? encoders.encode(chunk) : Promise.resolve(encodeChunk(chunk));
    // Awaited in order below; a failure is seen there, and one never awaited (the load failed
    // first) is not left unhandled.
    encoded.catch(() => undefined);
    queue.push(encoded);
    if (queue.length > LOOKAHEAD) yield await (queue.shift() as Promise<EncodedChunk>);
  }
  while (queue.length > 0) yield await (queue.shift() as Promise<EncodedChunk>);
}

/** The UTC days (YYYY-MM-DD) of `chunkDays` (day numbers) not yet in `seen` (added to it). */
function newDays(chunkDays: readonly number[], seen: Set<number>): string[] {
  const out: string[] = [];
  for (const day of chunkDays) {
    if (!seen.has(day)) {
      seen.add(day);
      out.push(utcDay(new Date(day * DAY_MS)));
    }
  }
  return out;
}

/** The statement that gives every loaded payment its settlement-hash claim, in one pass. */
export const CLAIMS_FROM_PAYMENTS = `INSERT INTO ${HOT_CLAIMS} (facilitator_tx_hash, lease_id, payment_id, payment_timestamp)
     SELECT facilitator_tx_hash, lease_id, id, payment_timestamp FROM x402_payments`;

/**
 * What every other payment writer does row by row, done once for the whole load: rows of days
 * without a partition (they went to the DEFAULT partition) get their day's partition, and each
 * payment claims its settlement hash (settlement-hashes.ts), so a replay of a migrated payment is
 * still counted once.
 */
async function placePaymentsLikeEveryWriter(tx: SqlExecutor, step: (name: string) => void): Promise<void> {
  const { rows } = await tx.query<Row>(`SELECT DISTINCT ((payment_timestamp AT TIME ZONE 'UTC')::date)::text AS day FROM ${DEFAULT_PARTITION}`, []);
  await ensurePaymentPartitions(tx, rows.map((r) => String(r['day'])));
  step('partitions');
  await tx.query(CLAIMS_FROM_PAYMENTS, []);
  step('settlementHashes');
}

/** A primary key whose first column is `id`, the order every source gives records in. */
const ID_FIRST_KEY = /^PRIMARY KEY \(id[,)]/;

/** A statement that creates again what the load dropped, and the step it belongs to. */
interface Rebuild {
  kind: 'keys' | 'indexes' | 'foreignKeys';
  sql: string;
}

/**
 * Drops the keys, unique constraints, indexes and foreign keys of the five tables and the hot
 * claims table (and foreign keys of other tables pointing at them); returns the statements that
 * create them again, in an order that works: keys and unique constraints, then indexes, then
 * foreign keys. Primary keys that lead with `id` stay: every source gives each table's records in
 * ascending id order (snapshots are checked for it), so the COPY appends to the right edge of
 * those indexes, which costs the server little while it waits for Node's next chunk; built after
 * the copy instead, they would add to the steps that run on the server alone.
 */
async function dropIndexesAndKeys(tx: SqlExecutor): Promise<Rebuild[]> {
  // The hot claims are filled from the payments in one statement: cheaper unindexed too (the cold
  // table stays empty: every loaded claim is new, and the service's upkeep moves the old ones).
  const tables = [...TABLES, HOT_CLAIMS].map((t) => `'${t}'::regclass`).join(', ');
  const all = (
    await tx.query<Row>(
      `SELECT conrelid::regclass::text AS tbl, conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE contype IN ('p', 'u', 'f') AND conparentid = 0 AND (conrelid IN (${tables}) OR (contype = 'f' AND confrelid IN (${tables})))
        ORDER BY contype = 'f' DESC, conname`,
      [],
    )
  ).rows;
  const constraints = all.filter((c) => !(c['contype'] === 'p' && ID_FIRST_KEY.test(String(c['def']))));
  const indexes = (
    await tx.query<Row>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        WHERE i.indrelid IN (${tables})
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u'))
        ORDER BY 1`,
      [],
    )
  ).rows;
  const ident = (name: unknown) => `"${String(name).replace(/"/g, '""')}"`;
  // Foreign keys first (they depend on the unique indexes), then keys, then plain indexes.
  for (const c of constraints) await tx.query(`ALTER TABLE ${String(c['tbl'])} DROP CONSTRAINT ${ident(c['conname'])}`, []);
  for (const i of indexes) await tx.query(`DROP INDEX ${String(i['name'])}`, []);
  const add = (c: Row) => `ALTER TABLE ${String(c['tbl'])} ADD CONSTRAINT ${ident(c['conname'])} ${String(c['def'])}`;
  return [
    ...constraints.filter((c) => c['contype'] !== 'f').map((c): Rebuild => ({ kind: 'keys', sql: add(c) })),
    // An index of a partitioned table reads back as `ON ONLY`, which would build it for no
    // partition; without ONLY it is built on every partition.
    ...indexes.map((i): Rebuild => ({ kind: 'indexes', sql: String(i['def']).replace(' ON ONLY ', ' ON ') })),
    ...constraints.filter((c) => c['contype'] === 'f').map((c): Rebuild => ({ kind: 'foreignKeys', sql: add(c) })),
  ];
}
