/**
 * Runs one statement and returns its rows, with any driver error mapped to a StorageError named
 * after the operation: the try/catch every SQL read would otherwise repeat.
 *
 * The keyed reads (one row or one small page by an indexed key, run on every request) go as
 * named prepared statements: PostgreSQL then plans them once per connection instead of on every
 * call. For these reads planning costs several times the execution (EXPLAIN ANALYZE of
 * getEvent at 1M events: ~0.4 ms planning, ~0.05 ms execution), so it is most of the server's
 * work per read and of the time a read can be preempted on a busy machine (issue 14, the read tail).
 */
import type { Row } from './codecs.js';
import type { SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';

/**
 * The operations whose statements are prepared. Each has one fixed text, or a few (the lease list
 * and pages: one text per combination of filter fields), never a text built from values, so the
 * number of statements a connection keeps is bounded. Bulk, retention and migration statements
 * are not here: they run rarely, and some carry values in their text.
 */
const PREPARED_OPERATIONS: ReadonlySet<string> = new Set([
  'getAsset',
  'getAssetByTokenAddress',
  'getLease',
  'getLeases',
  'getAssetsPage',
  'getLeasesPage',
  'getEvent',
  'getUnprocessedEvents',
  'getPaymentsPage',
  'getBatchesPage',
  'getDailyRevenue',
  'getHourTotals',
  'getOpenBatchForLease',
  'getLeaseWithBatch',
  'getLeasesWithBatches',
]);

/** A safety cap on distinct prepared texts in this process (each connection prepares those it runs). */
const MAX_PREPARED_TEXTS = 512;

/** Statement name per text: one name always goes with one text, as named statements require. */
const preparedNames = new Map<string, string>();

/**
 * The prepared-statement name of `text` when `context` is a keyed read, else undefined (the
 * statement is sent unnamed and planned on every call).
 */
export function preparedName(context: string, text: string): string | undefined {
  if (!PREPARED_OPERATIONS.has(context)) return undefined;
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < MAX_PREPARED_TEXTS) {
    name = `read_${preparedNames.size}`;
    preparedNames.set(text, name);
  }
  return name;
}

/** The rows of `text` run with `params` on `executor`; failures become StorageErrors. */
export async function queryRows(executor: SqlExecutor, context: string, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  try {
    const name = params.length > 0 ? preparedName(context, text) : undefined;
    return (await executor.query<Row>(text, params, name === undefined ? undefined : { name })).rows;
  } catch (error) {
    throw mapDriverError(error, context);
  }
}
