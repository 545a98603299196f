/**
 * Runs one statement and returns its rows, with any driver error mapped to a StorageError named
 * after the operation: the try/catch every SQL read would otherwise repeat.
 */
import type { Row } from './codecs.js';
import type { SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';

/** The rows of `text` run with `params` on `executor`; failures become StorageErrors. */
export async function queryRows(executor: SqlExecutor, context: string, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  try {
    return (await executor.query<Row>(text, params)).rows;
  } catch (error) {
    throw mapDriverError(error, context);
  }
}
