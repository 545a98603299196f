/**
 * Where reconcile reads payments from, and which of those reads it may keep (migration 013). A
 * day partition whose UTC day is over (by an hour) is "closed": its check is kept in
 * `x402_reconcile_days` while the day's watch trigger says nothing wrote to it since. Today's and
 * future partitions and the DEFAULT partition are read at every check; so is the whole table when
 * it is not partitioned (the scale bench's unpartitioned layout).
 */
import { StorageError } from '../../contract/errors.js';
import type { Row } from './codecs.js';
import type { SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';
import { partitionDay } from './partitions.js';

/** One table reconcile reads payments from. */
export interface PaymentSource {
  /** The table's name, from the catalog. */
  name: string;
  /** Its oid, what the kept result is tied to (a compaction's swap or a restore makes a new one). */
  oid: number;
  /** The day (YYYY-MM-DD) of a closed day partition, whose check may be kept; null when it is read every time. */
  closedDay: string | null;
}

const TABLE = /^x402_payments(_p\d{8}|_default)?$/;

/** The name, double-quoted, of a payment table taken from the catalog. */
export function quotedSource(name: string): string {
  if (!TABLE.test(name)) throw new StorageError('INTERNAL', `unexpected payment table ${name}`);
  return `"${name}"`;
}

/**
 * How long after its end a day is closed, by the database's clock. Payments priced before
 * midnight still arrive for a while after it (the store's settlement grace is 5 minutes), and
 * once a day is watched each transaction writing to it updates the day's one row, so those
 * transactions would queue on it; an hour later none arrive in the normal run of things.
 */
export const CLOSED_AFTER = '1 hour';

/** The payment tables as the catalog has them now, each day partition closed {@link CLOSED_AFTER} its end. */
export async function paymentSources(db: SqlExecutor): Promise<PaymentSource[]> {
  try {
    const { rows } = await db.query<Row>(
      `SELECT c.oid::bigint AS oid, c.relname AS name, ((now() - interval '${CLOSED_AFTER}') AT TIME ZONE 'UTC')::date::text AS today
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'x402_payments'::regclass ORDER BY c.relname`,
    );
    if (rows.length === 0) {
      const table = await db.query<Row>(`SELECT 'x402_payments'::regclass::oid::bigint AS oid`);
      return [{ name: 'x402_payments', oid: Number(table.rows[0]?.['oid']), closedDay: null }];
    }
    return rows.map((r) => {
      const name = r['name'] as string;
      const day = partitionDay(name);
      return { name, oid: Number(r['oid']), closedDay: day !== undefined && day < (r['today'] as string) ? day : null };
    });
  } catch (error) {
    throw mapDriverError(error, 'reconcile: list payment tables');
  }
}

/** The closed days of `sources` and their oids, as the `$1::date[]` and `$2::oid[]` of {@link KEPT_DAYS_SQL}. */
export function closedDayParams(sources: readonly PaymentSource[]): [string[], number[]] {
  const closed = sources.filter((s) => s.closedDay !== null);
  return [closed.map((s) => s.closedDay as string), closed.map((s) => s.oid)];
}

/** The watch triggers' names (made by `watchDay` in reconcile-kept-days.ts). */
export const WATCH_TRIGGERS = ['x402_reconcile_watch', 'x402_reconcile_watch_truncate'] as const;

/** True when both watch triggers are on the table whose oid is `oid` (an SQL expression) and enabled (`O`: the default; `A`: always). */
export function watchedSql(oid: string): string {
  return `(SELECT COUNT(*) FROM pg_trigger t
           WHERE t.tgrelid = ${oid} AND t.tgname IN ('${WATCH_TRIGGERS[0]}', '${WATCH_TRIGGERS[1]}') AND t.tgenabled IN ('O', 'A')) = 2`;
}

/**
 * The closed days (`$1::date[]`, partition oids `$2::oid[]`) whose kept result still holds, as
 * rows `(day)`: read from the same partition, nothing written to it since the snapshot it was
 * read in, the same file (a TRUNCATE makes a new one), and both watch triggers there and enabled
 * ({@link watchedSql}). A superuser who sets `session_replication_role = replica` or
 * disables the triggers writes unseen; `reconcile --full` reads every day again.
 */
export const KEPT_DAYS_SQL = `SELECT d.day FROM x402_reconcile_days d
    JOIN unnest($1::date[], $2::oid[]) AS c(day, oid) ON c.day = d.day AND c.oid = d.partition_oid
   WHERE d.checked_changes = d.changes
     AND d.checked_filenode = pg_relation_filenode(c.oid)
     AND ${watchedSql('c.oid')}`;
