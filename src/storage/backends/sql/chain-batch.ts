/**
 * The write-behind view `applyChainEvents` resolves a batch of intents through on SQL: every
 * asset, lease and link the batch names is read up front with `= ANY($1)` ... `FOR UPDATE` (a
 * handful of statements, whatever the batch's size), the shared core/chain-effects.ts resolves
 * the intents in memory against that overlay, and {@link ChainBatchView.flush} writes the
 * inserts, updates and links back with unnest-based statements in the same transaction.
 *
 * The overlay answers exactly what the row-by-row view would have answered inside the same
 * transaction: a row it has not read is read (and locked) when first asked for, a token lookup
 * sees every stored row with that token plus the batch's own changes, and new rows take their
 * `created_at` (the transaction's clock) and `id` up front, so "the oldest asset with this token"
 * is decided as the database would.
 */
import { randomUUID } from 'node:crypto';
import type { ChainIntent } from '../../contract/chain.js';
import type { NewAsset, NewLease, StoredAsset, StoredLease } from '../../contract/records.js';
import { keysOfIntents, linkKey, type AssetImage, type ChainApplyView, type ChainLink, type ChainLinkKind, type LeaseImage } from '../../core/chain-effects.js';
import { assetFromRow, jsonParam, leaseFromRow, toDate, type Row } from './codecs.js';
import type { SqlExecutor } from './driver.js';
import { queryRows } from './query-rows.js';

const CONTEXT = 'applyChainEvents';

/**
 * Rows of `table` matching any of the keys `$1`, locked. One lookup per key (a LATERAL join)
 * rather than `= ANY($1)`: on tables that grew since they were last analyzed (a first sync from
 * the chain) the planner would otherwise scan the whole table for every batch.
 */
const BY_KEY = (table: 'assets' | 'leases', condition: string) =>
  `SELECT r.* FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL (SELECT * FROM ${table} WHERE ${condition} FOR UPDATE) r`;

interface LinkRef {
  chainId: number;
  kind: ChainLinkKind;
  onchainId: string;
}

/** (created_at, id) order, as `ORDER BY created_at, id` sorts (uuid order is its lowercase hex text order). */
function older(a: StoredAsset, b: StoredAsset): boolean {
  const at = a.createdAt.getTime();
  const bt = b.createdAt.getTime();
  return at !== bt ? at < bt : a.id < b.id;
}

/** A batch overlay over one transaction: reads once, resolves in memory, writes back in {@link flush}. */
export class ChainBatchView implements ChainApplyView {
  /** Rows read or written, by key; null when the key is known to be absent. */
  private readonly assets = new Map<string, StoredAsset | null>();
  private readonly leases = new Map<string, StoredLease | null>();
  private readonly links = new Map<string, ChainLink | null>();
  /** Lowercased tokens whose stored rows are all in {@link assets}. */
  private readonly tokensRead = new Set<string>();
  /** Asset keys by lowercased current token (rows in the overlay). */
  private readonly byToken = new Map<string, Set<string>>();
  private readonly newAssets = new Set<string>();
  private readonly changedAssets = new Set<string>();
  private readonly newLeases = new Set<string>();
  private readonly changedLeases = new Set<string>();
  private readonly changedLinks = new Set<string>();
  private constructor(
    private readonly tx: SqlExecutor,
    /** The transaction's clock at millisecond precision (the columns' default), read when first needed if not given. */
    private clock: Date | null,
  ) {}

  /** An overlay with every row `intents` name read and locked (links first: they name more rows). */
  static async load(tx: SqlExecutor, intents: readonly ChainIntent[], clock: Date | null = null): Promise<ChainBatchView> {
    const view = new ChainBatchView(tx, clock);
    if (intents.length === 0) return view;
    const keys = keysOfIntents(intents);
    await view.readLinks([...keys.links.values()]);
    // What the stored links lead to: their records, and the assets of stored offers.
    const more: LinkRef[] = [];
    for (const link of view.links.values()) {
      if (!link) continue;
      if (link.kind === 'asset' && link.recordKey !== null) keys.assetIds.add(link.recordKey);
      if (link.kind === 'lease' && link.recordKey !== null) keys.leaseIds.add(link.recordKey);
      const assetId = link.kind === 'offer' ? link.data['onchainAssetId'] : undefined;
      if (typeof assetId === 'string') {
        keys.assetIds.add(assetId);
        if (!view.links.has(linkKey(link.chainId, 'asset', assetId))) more.push({ chainId: link.chainId, kind: 'asset', onchainId: assetId });
      }
    }
    if (more.length > 0) {
      await view.readLinks(more);
      for (const r of more) {
        const key = view.links.get(linkKey(r.chainId, r.kind, r.onchainId))?.recordKey;
        if (key) keys.assetIds.add(key);
      }
    }
    await view.readAssets([...keys.assetIds]);
    await view.readTokens([...keys.tokens]);
    await view.readLeases([...keys.leaseIds]);
    return view;
  }

  private async query(text: string, params: readonly unknown[]): Promise<Row[]> {
    return queryRows(this.tx, CONTEXT, text, params);
  }

  private async readLinks(refs: readonly LinkRef[]): Promise<void> {
    const wanted = refs.filter((r) => !this.links.has(linkKey(r.chainId, r.kind, r.onchainId)));
    if (wanted.length === 0) return;
    const rows = await this.query(
      `SELECT l.* FROM unnest($1::int[], $2::text[], $3::text[]) AS w(chain_id, kind, onchain_id)
       CROSS JOIN LATERAL (
         SELECT chain_id, kind, onchain_id, record_key, data FROM chain_links
         WHERE chain_id = w.chain_id AND kind = w.kind AND onchain_id = w.onchain_id FOR UPDATE
       ) l`,
      [wanted.map((r) => r.chainId), wanted.map((r) => r.kind), wanted.map((r) => r.onchainId)],
    );
    for (const r of wanted) this.links.set(linkKey(r.chainId, r.kind, r.onchainId), null);
    for (const row of rows) {
      const link: ChainLink = {
        chainId: Number(row['chain_id']),
        kind: row['kind'] as ChainLinkKind,
        onchainId: String(row['onchain_id']),
        recordKey: (row['record_key'] as string | null) ?? null,
        data: row['data'] as ChainLink['data'],
      };
      this.links.set(linkKey(link.chainId, link.kind, link.onchainId), link);
    }
  }

  /** Puts a stored row in the overlay unless the overlay already has that key (its own state wins). */
  private remember(asset: StoredAsset): void {
    if (this.assets.get(asset.assetId)) return;
    this.assets.set(asset.assetId, asset);
    this.indexToken(asset.assetId, asset.tokenAddress);
  }

  private indexToken(key: string, token: string): void {
    const lower = token.toLowerCase();
    let keys = this.byToken.get(lower);
    if (!keys) this.byToken.set(lower, (keys = new Set()));
    keys.add(key);
  }

  private async readAssets(ids: readonly string[]): Promise<void> {
    const wanted = ids.filter((id) => !this.assets.has(id));
    if (wanted.length === 0) return;
    const rows = await this.query(BY_KEY('assets', 'asset_id = k.key'), [wanted]);
    for (const id of wanted) this.assets.set(id, null);
    for (const row of rows) {
      const asset = assetFromRow(row);
      this.assets.delete(asset.assetId);
      this.remember(asset);
    }
  }

  private async readTokens(tokens: readonly string[]): Promise<void> {
    const wanted = tokens.filter((t) => !this.tokensRead.has(t));
    if (wanted.length === 0) return;
    const rows = await this.query(BY_KEY('assets', 'LOWER(token_address) = k.key'), [wanted]);
    for (const row of rows) {
      const asset = assetFromRow(row);
      if (this.assets.get(asset.assetId) === null) this.assets.delete(asset.assetId);
      this.remember(asset);
    }
    for (const t of wanted) this.tokensRead.add(t);
  }

  private async readLeases(ids: readonly string[]): Promise<void> {
    const wanted = ids.filter((id) => !this.leases.has(id));
    if (wanted.length === 0) return;
    const rows = await this.query(BY_KEY('leases', 'lease_id = k.key'), [wanted]);
    for (const id of wanted) this.leases.set(id, null);
    for (const row of rows) {
      const lease = leaseFromRow(row);
      this.leases.set(lease.leaseId, lease);
    }
  }

  /** The transaction's clock as the columns' defaults store it (milliseconds), read once. */
  private async now(): Promise<Date> {
    if (!this.clock) {
      const rows = await this.query(`SELECT date_trunc('milliseconds', now()) AS now`, []);
      this.clock = toDate(rows[0]?.['now'], 'now');
    }
    return this.clock;
  }

  async findAsset(assetId: string): Promise<StoredAsset | null> {
    if (!this.assets.has(assetId)) await this.readAssets([assetId]);
    return this.assets.get(assetId) ?? null;
  }

  async findAssetByToken(tokenAddress: string): Promise<StoredAsset | null> {
    const lower = tokenAddress.toLowerCase();
    if (!this.tokensRead.has(lower)) await this.readTokens([lower]);
    let best: StoredAsset | null = null;
    for (const key of this.byToken.get(lower) ?? []) {
      const asset = this.assets.get(key);
      // The index keeps keys whose token has since changed; only the current token counts.
      if (!asset || asset.tokenAddress.toLowerCase() !== lower) continue;
      if (!best || older(asset, best)) best = asset;
    }
    return best;
  }

  async insertAsset(a: NewAsset): Promise<void> {
    const now = await this.now();
    this.assets.set(a.assetId, { ...a, id: randomUUID(), createdAt: now, updatedAt: now });
    this.indexToken(a.assetId, a.tokenAddress);
    this.newAssets.add(a.assetId);
  }

  async setAsset(assetId: string, image: AssetImage): Promise<void> {
    const current = await this.findAsset(assetId);
    // As an UPDATE of a missing row: nothing changes.
    if (!current) return;
    this.assets.set(assetId, { ...current, ...image });
    this.indexToken(assetId, image.tokenAddress);
    if (!this.newAssets.has(assetId)) this.changedAssets.add(assetId);
  }

  async findLease(leaseId: string): Promise<StoredLease | null> {
    if (!this.leases.has(leaseId)) await this.readLeases([leaseId]);
    return this.leases.get(leaseId) ?? null;
  }

  async insertLease(l: NewLease): Promise<void> {
    const now = await this.now();
    this.leases.set(l.leaseId, { ...l, id: randomUUID(), createdAt: now, updatedAt: now });
    this.newLeases.add(l.leaseId);
  }

  async setLease(leaseId: string, image: LeaseImage): Promise<void> {
    const current = await this.findLease(leaseId);
    if (!current) return;
    this.leases.set(leaseId, { ...current, ...image });
    if (!this.newLeases.has(leaseId)) this.changedLeases.add(leaseId);
  }

  async getLink(chainId: number, kind: ChainLinkKind, onchainId: string): Promise<ChainLink | null> {
    const key = linkKey(chainId, kind, onchainId);
    if (!this.links.has(key)) await this.readLinks([{ chainId, kind, onchainId }]);
    return this.links.get(key) ?? null;
  }

  async setLink(link: ChainLink): Promise<void> {
    const key = linkKey(link.chainId, link.kind, link.onchainId);
    this.links.set(key, { ...link });
    this.changedLinks.add(key);
  }

  /**
   * Writes the batch back: new assets, changed assets, new leases, changed leases (assets first:
   * leases refer to them), then the links; at most one statement each.
   */
  async flush(): Promise<void> {
    const pick = <T>(map: Map<string, T | null>, keys: Set<string>): T[] => [...keys].map((k) => map.get(k)).filter((v): v is T => v !== null && v !== undefined);
    const inserted = pick(this.assets, this.newAssets);
    if (inserted.length > 0) {
      await this.query(
        `INSERT INTO assets (id, asset_id, chain_id, contract_address, token_address, metadata, metadata_hash, block_number, transaction_hash)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::bigint[], $9::text[])`,
        assetColumns(inserted, true),
      );
    }
    const changed = pick(this.assets, this.changedAssets);
    if (changed.length > 0) {
      await this.query(
        `UPDATE assets a SET chain_id = u.chain_id, contract_address = u.contract_address, token_address = u.token_address,
           metadata = u.metadata, metadata_hash = u.metadata_hash, block_number = u.block_number, transaction_hash = u.transaction_hash
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::bigint[], $8::text[])
           AS u(asset_id, chain_id, contract_address, token_address, metadata, metadata_hash, block_number, transaction_hash)
         WHERE a.asset_id = u.asset_id`,
        assetColumns(changed, false),
      );
    }
    const newLeases = pick(this.leases, this.newLeases);
    if (newLeases.length > 0) {
      await this.query(
        `INSERT INTO leases (id, lease_id, asset_id, chain_id, contract_address, lessor, lessee, agreement, status, block_number, transaction_hash)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::bigint[], $11::text[])`,
        leaseColumns(newLeases, true),
      );
    }
    const changedLeases = pick(this.leases, this.changedLeases);
    if (changedLeases.length > 0) {
      await this.query(
        `UPDATE leases l SET asset_id = u.asset_id, chain_id = u.chain_id, contract_address = u.contract_address, lessor = u.lessor,
           lessee = u.lessee, agreement = u.agreement, status = u.status, block_number = u.block_number, transaction_hash = u.transaction_hash
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::bigint[], $10::text[])
           AS u(lease_id, asset_id, chain_id, contract_address, lessor, lessee, agreement, status, block_number, transaction_hash)
         WHERE l.lease_id = u.lease_id`,
        leaseColumns(changedLeases, false),
      );
    }
    const links = pick(this.links, this.changedLinks);
    if (links.length > 0) {
      await this.query(
        `INSERT INTO chain_links (chain_id, kind, onchain_id, record_key, data)
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
         ON CONFLICT (chain_id, kind, onchain_id) DO UPDATE SET record_key = EXCLUDED.record_key, data = EXCLUDED.data`,
        [links.map((l) => l.chainId), links.map((l) => l.kind), links.map((l) => l.onchainId), links.map((l) => l.recordKey), links.map((l) => jsonParam(l.data))],
      );
    }
  }
}

function assetColumns(rows: readonly StoredAsset[], withId: boolean): unknown[][] {
  const columns: unknown[][] = [
    rows.map((a) => a.assetId),
    rows.map((a) => a.chainId),
    rows.map((a) => a.contractAddress),
    rows.map((a) => a.tokenAddress),
    rows.map((a) => jsonParam(a.metadata)),
    rows.map((a) => a.metadataHash),
    rows.map((a) => a.blockNumber),
    rows.map((a) => a.transactionHash),
  ];
  return withId ? [rows.map((a) => a.id), ...columns] : columns;
}

function leaseColumns(rows: readonly StoredLease[], withId: boolean): unknown[][] {
  const columns: unknown[][] = [
    rows.map((l) => l.leaseId),
    rows.map((l) => l.assetId),
    rows.map((l) => l.chainId),
    rows.map((l) => l.contractAddress),
    rows.map((l) => l.lessor),
    rows.map((l) => l.lessee),
    rows.map((l) => jsonParam(l.agreement)),
    rows.map((l) => l.status),
    rows.map((l) => l.blockNumber),
    rows.map((l) => l.transactionHash),
  ];
  return withId ? [rows.map((l) => l.id), ...columns] : columns;
}
