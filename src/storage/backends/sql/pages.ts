/**
 * Keyset pages of assets and filtered leases, and filtered lease lists, for the SQL backends, in
 * (created_at, id) order. Filter fields map to fixed SQL conditions; only their values are parameters.
 */
import type { LeaseFilter, StoredAsset, StoredLease } from '../../contract/database.js';
import type { ListOrder, PageRequest, Slice, TimeIdKey } from '../../core/backend.js';
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
  async assets(page: PageRequest<TimeIdKey>): Promise<Slice<StoredAsset>> {
    return this.page('getAssetsPage', 'assets', [], [], page, assetFromRow);
  }

  /** Leases matching `filter` after the cursor. */
  async leases(filter: LeaseFilter, page: PageRequest<TimeIdKey>): Promise<Slice<StoredLease>> {
    const { conditions, params } = leaseConditions(filter);
    return this.page('getLeasesPage', 'leases', conditions, params, page, leaseFromRow);
  }

  /** Every lease matching `filter`, oldest or newest first. */
  async leaseList(context: string, filter: LeaseFilter, order: ListOrder): Promise<StoredLease[]> {
    const { conditions, params } = leaseConditions(filter);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const by = order === 'newest-first' ? 'created_at DESC, id DESC' : 'created_at, id';
    return (await queryRows(this.driver, context, `SELECT * FROM leases ${where} ORDER BY ${by}`, params)).map(leaseFromRow);
  }

  private async page<T extends { createdAt: Date; id: string }>(
    context: string,
    table: 'assets' | 'leases',
    conditions: string[],
    params: unknown[],
    { limit, after }: PageRequest<TimeIdKey>,
    decode: (row: Row) => T,
  ): Promise<Slice<T>> {
    if (after) {
      const { ts, id } = after;
      params.push(new Date(ts), id);
      conditions.push(`(created_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = await queryRows(this.driver, context, `SELECT * FROM ${table} ${where} ORDER BY created_at, id LIMIT $${params.length}`, params);
    return { items: rows.slice(0, limit).map(decode), more: rows.length > limit };
  }
}

/** The WHERE conditions of a lease filter: fixed SQL per field, only the values are parameters. */
function leaseConditions(filter: LeaseFilter): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(filter)) {
    const sql = LEASE_FILTER_SQL[field as keyof LeaseFilter];
    params.push(value);
    conditions.push(sql.replace('$?', `$${params.length}`));
  }
  return { conditions, params };
}
