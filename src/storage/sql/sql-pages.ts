/**
 * Keyset pages of assets and filtered leases for the SQL backends, in (created_at, id) order.
 * Filter fields map to fixed SQL conditions; only their values are parameters.
 */
import type { LeaseFilter, StoredAsset, StoredLease } from '../database.js';
import { timeIdCursor, timeIdCursorKey, type ResolvedPage } from '../cursor.js';
import type { Page } from '../ledger-queries.js';
import { assetFromRow, leaseFromRow, type Row } from './codecs.js';
import type { SqlDriver } from './driver.js';
import { queryRows } from './query-rows.js';

const LEASE_FILTER_SQL: Readonly<Record<keyof LeaseFilter, string>> = {
  status: 'status = $?',
  assetId: 'asset_id = $?',
  lessor: 'LOWER(lessor) = LOWER($?)',
  lessee: 'LOWER(lessee) = LOWER($?)',
};

/** Asset and lease pages over a {@link SqlDriver}. */
export class SqlPages {
  constructor(private readonly driver: SqlDriver) {}

  /** Assets after the cursor. */
  async assets(page: ResolvedPage): Promise<Page<StoredAsset>> {
    return this.page('getAssetsPage', 'assets', [], [], page, assetFromRow);
  }

  /** Leases matching `filter` after the cursor. */
  async leases(filter: LeaseFilter, page: ResolvedPage): Promise<Page<StoredLease>> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    for (const [field, value] of Object.entries(filter)) {
      const sql = LEASE_FILTER_SQL[field as keyof LeaseFilter];
      params.push(value);
      conditions.push(sql.replace('$?', `$${params.length}`));
    }
    return this.page('getLeasesPage', 'leases', conditions, params, page, leaseFromRow);
  }

  private async page<T extends { createdAt: Date; id: string }>(
    context: string,
    table: 'assets' | 'leases',
    conditions: string[],
    params: unknown[],
    { limit, after }: ResolvedPage,
    decode: (row: Row) => T,
  ): Promise<Page<T>> {
    if (after) {
      const { ts, id } = timeIdCursorKey(after);
      params.push(new Date(ts), id);
      conditions.push(`(created_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = await queryRows(this.driver, context, `SELECT * FROM ${table} ${where} ORDER BY created_at, id LIMIT $${params.length}`, params);
    const items = rows.slice(0, limit).map(decode);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? timeIdCursor(last.createdAt, last.id) : null };
  }
}
