/**
 * Fixed column maps: the only way a record field name becomes SQL text. Updates look fields up
 * here; a field that is not in the map never reaches a statement.
 */

/** How a field is written: its column and the SQL cast of its parameter. */
export interface ColumnSpec {
  column: string;
  cast: string;
}

/** Updatable asset fields. */
export const ASSET_UPDATE_COLUMNS: Readonly<Record<string, ColumnSpec>> = {
  chainId: { column: 'chain_id', cast: 'integer' },
  contractAddress: { column: 'contract_address', cast: 'text' },
  tokenAddress: { column: 'token_address', cast: 'text' },
  metadata: { column: 'metadata', cast: 'jsonb' },
  metadataHash: { column: 'metadata_hash', cast: 'text' },
  blockNumber: { column: 'block_number', cast: 'bigint' },
  transactionHash: { column: 'transaction_hash', cast: 'text' },
};

/** Updatable lease fields. */
export const LEASE_UPDATE_COLUMNS: Readonly<Record<string, ColumnSpec>> = {
  assetId: { column: 'asset_id', cast: 'text' },
  chainId: { column: 'chain_id', cast: 'integer' },
  contractAddress: { column: 'contract_address', cast: 'text' },
  lessor: { column: 'lessor', cast: 'text' },
  lessee: { column: 'lessee', cast: 'text' },
  agreement: { column: 'agreement', cast: 'jsonb' },
  status: { column: 'status', cast: 'text' },
  blockNumber: { column: 'block_number', cast: 'bigint' },
  transactionHash: { column: 'transaction_hash', cast: 'text' },
};

/**
 * Builds `col = $n::cast, ...` for the given updates from a column map, appending the values to
 * `params`. Throws if a field is not in the map (validation has already refused such input).
 */
export function buildSetClause(
  updates: Record<string, unknown>,
  columns: Readonly<Record<string, ColumnSpec>>,
  params: unknown[],
  encode: (field: string, value: unknown) => unknown,
): string {
  const parts: string[] = [];
  for (const [field, value] of Object.entries(updates)) {
    const spec = Object.hasOwn(columns, field) ? columns[field] : undefined;
    if (!spec) throw new Error(`no column for field ${field}`);
    params.push(encode(field, value));
    parts.push(`${spec.column} = $${params.length}::${spec.cast}`);
  }
  return parts.join(', ');
}
