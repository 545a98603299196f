/**
 * Chain ingestion and processing over a {@link SqlDriver} (contract/chain.ts): a range's events,
 * block hashes and cursor in one transaction; a rewind's removals and undo in one; a batch of
 * handler effects with the events' processed marks in one. Intents are resolved by the shared
 * core/chain-effects.ts: a batch over the write-behind overlay of chain-batch.ts (a few
 * statements per batch), a rewind's undo over a view whose every call is one statement.
 */
import type {
  ChainApplication,
  ChainApplyResult,
  ChainBlockRef,
  ChainCursor,
  ChainRangeInput,
  ChainRangeResult,
  ChainRewindResult,
  StoredDeepReorg,
} from '../../contract/chain.js';
import { StorageError } from '../../contract/errors.js';
import type { JsonObject, StoredEvent } from '../../contract/records.js';
import { applyIntents, undoEntries, type ChainEffectView, type ChainLinkKind, type ChainTablesDump, type UndoEntry } from '../../core/chain-effects.js';
import { ChainBatchView } from './chain-batch.js';
import { assetFromRow, deepReorgFromRow, eventFromRow, jsonParam, leaseFromRow, toDate, toSafeInt, type Row } from './codecs.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';
import { queryRows } from './query-rows.js';

const DEFAULT_RETAIN_BLOCKS = 1024;

/** A view of assets, leases and links bound to one transaction. */
function viewOn(tx: SqlExecutor): ChainEffectView {
  const q = (context: string, text: string, params: readonly unknown[]) => queryRows(tx, context, text, params);
  return {
    async findAsset(assetId) {
      const rows = await q('chain findAsset', 'SELECT * FROM assets WHERE asset_id = $1 FOR UPDATE', [assetId]);
      return rows[0] ? assetFromRow(rows[0]) : null;
    },
    async findAssetByToken(tokenAddress) {
      const rows = await q('chain findAssetByToken', 'SELECT * FROM assets WHERE LOWER(token_address) = LOWER($1) ORDER BY created_at, id LIMIT 1 FOR UPDATE', [tokenAddress]);
      return rows[0] ? assetFromRow(rows[0]) : null;
    },
    async insertAsset(a) {
      await q(
        'chain insertAsset',
        `INSERT INTO assets (asset_id, chain_id, contract_address, token_address, metadata, metadata_hash, block_number, transaction_hash)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
        [a.assetId, a.chainId, a.contractAddress, a.tokenAddress, jsonParam(a.metadata), a.metadataHash, a.blockNumber, a.transactionHash],
      );
    },
    async setAsset(assetId, a) {
      await q(
        'chain setAsset',
        `UPDATE assets SET chain_id = $2, contract_address = $3, token_address = $4, metadata = $5::jsonb, metadata_hash = $6,
         block_number = $7, transaction_hash = $8 WHERE asset_id = $1`,
        [assetId, a.chainId, a.contractAddress, a.tokenAddress, jsonParam(a.metadata), a.metadataHash, a.blockNumber, a.transactionHash],
      );
    },
    async deleteAsset(assetId) {
      const refs = await q('chain deleteAsset', 'SELECT 1 FROM leases WHERE asset_id = $1 LIMIT 1', [assetId]);
      if (refs.length > 0) return false;
      await q('chain deleteAsset', 'DELETE FROM assets WHERE asset_id = $1', [assetId]);
      return true;
    },
    async findLease(leaseId) {
      const rows = await q('chain findLease', 'SELECT * FROM leases WHERE lease_id = $1 FOR UPDATE', [leaseId]);
      return rows[0] ? leaseFromRow(rows[0]) : null;
    },
    async insertLease(l) {
      await q(
        'chain insertLease',
        `INSERT INTO leases (lease_id, asset_id, chain_id, contract_address, lessor, lessee, agreement, status, block_number, transaction_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
        [l.leaseId, l.assetId, l.chainId, l.contractAddress, l.lessor, l.lessee, jsonParam(l.agreement), l.status, l.blockNumber, l.transactionHash],
      );
    },
    async setLease(leaseId, l) {
      await q(
        'chain setLease',
        `UPDATE leases SET asset_id = $2, chain_id = $3, contract_address = $4, lessor = $5, lessee = $6, agreement = $7::jsonb,
         status = $8, block_number = $9, transaction_hash = $10 WHERE lease_id = $1`,
        [leaseId, l.assetId, l.chainId, l.contractAddress, l.lessor, l.lessee, jsonParam(l.agreement), l.status, l.blockNumber, l.transactionHash],
      );
    },
    async deleteLease(leaseId) {
      const refs = await q(
        'chain deleteLease',
        'SELECT 1 FROM x402_payments WHERE lease_id = $1 UNION ALL SELECT 1 FROM x402_batches WHERE lease_id = $1 LIMIT 1',
        [leaseId],
      );
      if (refs.length > 0) return false;
      await q('chain deleteLease', 'DELETE FROM leases WHERE lease_id = $1', [leaseId]);
      return true;
    },
    async getLink(chainId, kind, onchainId) {
      const rows = await q('chain getLink', 'SELECT record_key, data FROM chain_links WHERE chain_id = $1 AND kind = $2 AND onchain_id = $3', [chainId, kind, onchainId]);
      const row = rows[0];
      if (!row) return null;
      return { chainId, kind, onchainId, recordKey: (row['record_key'] as string | null) ?? null, data: row['data'] as JsonObject };
    },
    async setLink(link) {
      await q(
        'chain setLink',
        `INSERT INTO chain_links (chain_id, kind, onchain_id, record_key, data) VALUES ($1, $2, $3, $4, $5::jsonb)
         ON CONFLICT (chain_id, kind, onchain_id) DO UPDATE SET record_key = EXCLUDED.record_key, data = EXCLUDED.data`,
        [link.chainId, link.kind, link.onchainId, link.recordKey, jsonParam(link.data)],
      );
    },
    async deleteLink(chainId: number, kind: ChainLinkKind, onchainId: string) {
      await q('chain deleteLink', 'DELETE FROM chain_links WHERE chain_id = $1 AND kind = $2 AND onchain_id = $3', [chainId, kind, onchainId]);
    },
  };
}

function cursorFromRow(r: Row): ChainCursor {
  return {
    chainId: toSafeInt(r['chain_id'], 'chain_id'),
    ingestedBlock: toSafeInt(r['ingested_block'], 'ingested_block'),
    ingestedBlockHash: String(r['ingested_hash']),
    processedBlock: r['processed_block'] === null || r['processed_block'] === undefined ? null : toSafeInt(r['processed_block'], 'processed_block'),
    updatedAt: toDate(r['updated_at'], 'updated_at'),
  };
}

/** The chain operations of the SQL backends. */
export class SqlChain {
  constructor(private readonly driver: SqlDriver) {}

  private tx<T>(context: string, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.driver.transaction(fn).catch((error: unknown) => {
      // Statements map their own errors; what is left is BEGIN or COMMIT failing.
      throw error instanceof StorageError ? error : mapDriverError(error, context);
    });
  }

  async ingestRange(range: ChainRangeInput): Promise<ChainRangeResult> {
    const { chainId, fromBlock, toBlock, toBlockHash, logs } = range;
    return this.tx('ingestChainRange', async (tx) => {
      const cursor = await queryRows(tx, 'ingestChainRange', 'SELECT ingested_block FROM chain_cursors WHERE chain_id = $1 FOR UPDATE', [chainId]);
      if (cursor[0] && toSafeInt(cursor[0]['ingested_block'], 'ingested_block') !== fromBlock - 1) {
        throw new StorageError('CONFLICT', `chain ${chainId} cursor is at block ${String(cursor[0]['ingested_block'])}, not ${fromBlock - 1}`, {
          details: { chainId, fromBlock },
        });
      }
      let inserted = 0;
      let revived = 0;
      if (logs.length > 0) {
        // One statement whatever the range's size; a removed event that comes back (the same
        // transaction re-mined after a reorg) is revived, a live one is left as it is.
        // Counted in the database: the range's rows are not sent back.
        const rows = await queryRows(
          tx,
          'ingestChainRange',
          `WITH stored AS (
           INSERT INTO events (event_name, contract_address, block_number, transaction_hash, log_index, args, chain_id, block_hash)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::jsonb[], $7::int[], $8::text[])
           ON CONFLICT (transaction_hash, log_index) DO UPDATE SET
             event_name = EXCLUDED.event_name, contract_address = EXCLUDED.contract_address, block_number = EXCLUDED.block_number,
             args = EXCLUDED.args, chain_id = EXCLUDED.chain_id, block_hash = EXCLUDED.block_hash,
             removed = FALSE, processed = FALSE, attempts = 0, last_error = NULL
           WHERE events.removed
           RETURNING (xmax = 0) AS inserted)
           SELECT COUNT(*) FILTER (WHERE inserted) AS inserted, COUNT(*) FILTER (WHERE NOT inserted) AS revived FROM stored`,
          [
            logs.map((l) => l.eventName),
            logs.map((l) => l.contractAddress),
            logs.map((l) => l.blockNumber),
            logs.map((l) => l.transactionHash),
            logs.map((l) => l.logIndex),
            logs.map((l) => jsonParam(l.args)),
            logs.map(() => chainId),
            logs.map((l) => l.blockHash),
          ],
        );
        inserted = toSafeInt(rows[0]?.['inserted'] ?? 0, 'inserted');
        revived = toSafeInt(rows[0]?.['revived'] ?? 0, 'revived');
      }
      const blocks = new Map<number, string>(logs.map((l) => [l.blockNumber, l.blockHash]));
      blocks.set(toBlock, toBlockHash);
      await queryRows(
        tx,
        'ingestChainRange',
        `INSERT INTO chain_blocks (chain_id, block_number, block_hash) SELECT $1, * FROM unnest($2::bigint[], $3::text[])
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash`,
        [chainId, [...blocks.keys()], [...blocks.values()]],
      );
      await queryRows(tx, 'ingestChainRange', 'DELETE FROM chain_blocks WHERE chain_id = $1 AND block_number < $2', [
        chainId,
        toBlock - (range.retainBlocks ?? DEFAULT_RETAIN_BLOCKS),
      ]);
      await queryRows(
        tx,
        'ingestChainRange',
        `INSERT INTO chain_cursors (chain_id, ingested_block, ingested_hash) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id) DO UPDATE SET ingested_block = EXCLUDED.ingested_block, ingested_hash = EXCLUDED.ingested_hash, updated_at = NOW()`,
        [chainId, toBlock, toBlockHash],
      );
      return { inserted, revived };
    });
  }

  async cursor(chainId: number): Promise<ChainCursor | null> {
    const rows = await queryRows(this.driver, 'getChainCursor', 'SELECT * FROM chain_cursors WHERE chain_id = $1', [chainId]);
    return rows[0] ? cursorFromRow(rows[0]) : null;
  }

  async blocks(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]> {
    const rows = await queryRows(
      this.driver,
      'getChainBlocks',
      'SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number DESC LIMIT $3',
      [chainId, atOrBelow, limit],
    );
    return rows.map((r) => ({ blockNumber: toSafeInt(r['block_number'], 'block_number'), blockHash: String(r['block_hash']) }));
  }

  async rewind(chainId: number, toBlock: number, toBlockHash: string, deep: boolean): Promise<ChainRewindResult> {
    return this.tx('rewindChain', async (tx) => {
      const locked = await queryRows(tx, 'rewindChain', 'SELECT ingested_block FROM chain_cursors WHERE chain_id = $1 FOR UPDATE', [chainId]);
      const replaced = locked[0] ? toSafeInt(locked[0]['ingested_block'], 'ingested_block') - toBlock : 0;
      const orphaned = await queryRows(
        tx,
        'rewindChain',
        'SELECT id, processed FROM events WHERE chain_id = $1 AND block_number > $2 AND NOT removed ORDER BY block_number, log_index, id',
        [chainId, toBlock],
      );
      const processedIds = orphaned.filter((r) => r['processed'] === true).map((r) => String(r['id']));
      const notes: string[] = [];
      if (processedIds.length > 0) {
        const effects = await queryRows(
          tx,
          'rewindChain',
          `SELECT f.target, f.record_key, f.before FROM chain_effects f JOIN events e ON e.id = f.event_id
           WHERE f.event_id = ANY($1::uuid[]) ORDER BY e.block_number, e.log_index, e.id, f.seq`,
          [processedIds],
        );
        const entries: UndoEntry[] = effects.map((r) => ({
          target: r['target'] as UndoEntry['target'],
          key: String(r['record_key']),
          before: (r['before'] as JsonObject | null) ?? null,
        }));
        await undoEntries(viewOn(tx), entries, notes);
        await queryRows(tx, 'rewindChain', 'DELETE FROM chain_effects WHERE event_id = ANY($1::uuid[])', [processedIds]);
      }
      await queryRows(tx, 'rewindChain', 'UPDATE events SET removed = TRUE WHERE chain_id = $1 AND block_number > $2 AND NOT removed', [chainId, toBlock]);
      await queryRows(tx, 'rewindChain', 'DELETE FROM chain_blocks WHERE chain_id = $1 AND block_number > $2', [chainId, toBlock]);
      await queryRows(
        tx,
        'rewindChain',
        `INSERT INTO chain_blocks (chain_id, block_number, block_hash) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash`,
        [chainId, toBlock, toBlockHash],
      );
      await queryRows(
        tx,
        'rewindChain',
        `INSERT INTO chain_cursors (chain_id, ingested_block, ingested_hash) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id) DO UPDATE SET ingested_block = EXCLUDED.ingested_block, ingested_hash = EXCLUDED.ingested_hash,
           processed_block = LEAST(chain_cursors.processed_block, EXCLUDED.ingested_block), updated_at = NOW()`,
        [chainId, toBlock, toBlockHash],
      );
      // In the rewind's transaction: the replaced blocks are never gone without their record.
      const recorded =
        deep && replaced >= 1
          ? await queryRows(
              tx,
              'rewindChain',
              `INSERT INTO chain_deep_reorgs (chain_id, from_block, depth, removed_events, undone_events) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
              [chainId, toBlock + 1, replaced, orphaned.length, processedIds.length],
            )
          : [];
      return { removed: orphaned.length, undone: processedIds.length, notes, deepReorg: recorded[0] ? deepReorgFromRow(recorded[0]) : null };
    });
  }

  async unacknowledgedDeepReorgs(chainId: number): Promise<StoredDeepReorg[]> {
    const rows = await queryRows(this.driver, 'getUnacknowledgedDeepReorgs', 'SELECT * FROM chain_deep_reorgs WHERE chain_id = $1 AND acknowledged_at IS NULL ORDER BY id', [chainId]);
    return rows.map(deepReorgFromRow);
  }

  async acknowledgeDeepReorgs(chainId: number, ids: readonly number[], by: string, note: string): Promise<StoredDeepReorg[]> {
    const rows = await queryRows(
      this.driver,
      'acknowledgeDeepReorgs',
      `UPDATE chain_deep_reorgs SET acknowledged_at = NOW(), acknowledged_by = $3, acknowledged_note = $4
       WHERE chain_id = $1 AND id = ANY($2::bigint[]) AND acknowledged_at IS NULL RETURNING *`,
      [chainId, ids, by, note],
    );
    return rows.map(deepReorgFromRow).sort((a, b) => a.id - b.id);
  }

  async pending(chainId: number, throughBlock: number, limit: number): Promise<StoredEvent[]> {
    const rows = await queryRows(
      this.driver,
      'getPendingChainEvents',
      // From above the processed block: the partial pending index still holds processed events
      // until vacuum, and walking them from the chain's first block made a long first sync slow.
      // Ordered exactly as idx_events_chain_pending, so the LIMIT stops the index scan whatever
      // the planner estimates (a freshly synced table has no statistics, and with `id` added to
      // the order it sorted every ingested event for each batch: 40 ms a batch). A live event's
      // (block, log index) is unique on its chain, so `id` broke no ties here.
      `SELECT * FROM events WHERE chain_id = $1 AND NOT processed AND NOT removed AND block_number <= $2
         AND block_number > COALESCE((SELECT processed_block FROM chain_cursors WHERE chain_id = $1), -1)
       ORDER BY block_number, log_index LIMIT $3`,
      [chainId, throughBlock, limit],
    );
    return rows.map(eventFromRow);
  }

  async countPending(chainId: number): Promise<number> {
    const rows = await queryRows(this.driver, 'countPendingChainEvents', 'SELECT COUNT(*) AS n FROM events WHERE chain_id = $1 AND NOT processed AND NOT removed', [chainId]);
    return toSafeInt(rows[0]?.['n'] ?? 0, 'n');
  }

  async apply(chainId: number, applications: ChainApplication[], processedBlock: number | undefined): Promise<ChainApplyResult> {
    return this.tx('applyChainEvents', async (tx) => {
      const ids = applications.map((a) => a.eventId);
      // Row locks: a second processor that slipped past leadership waits here, then skips. The
      // same statement marks the live events processed (a refusal below rolls the mark back) and
      // reads the transaction's clock, which the overlay stamps the records it creates with.
      const rows =
        ids.length === 0
          ? []
          : await queryRows(
              tx,
              'applyChainEvents',
              `WITH locked AS (
                 SELECT id, processed, removed, chain_id FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
               ), marked AS (
                 UPDATE events e SET processed = TRUE, last_error = NULL FROM locked l
                 WHERE e.id = l.id AND l.chain_id = $2 AND NOT l.processed AND NOT l.removed
               )
               SELECT id, processed, removed, chain_id, date_trunc('milliseconds', now()) AS tx_now FROM locked`,
              [ids, chainId],
            );
      const state = new Map(rows.map((r) => [String(r['id']), r]));
      const live: ChainApplication[] = [];
      const applied: string[] = [];
      const effects: { eventId: string; seq: number; entry: UndoEntry }[] = [];
      const notes: string[] = [];
      let skipped = 0;
      for (const application of applications) {
        const row = state.get(application.eventId);
        if (!row) throw new StorageError('NOT_FOUND', `event ${application.eventId} does not exist`, { details: { id: application.eventId } });
        if (row['chain_id'] !== chainId) throw new StorageError('CONFLICT', `event ${application.eventId} is not an event of chain ${chainId}`);
        if (row['processed'] === true || row['removed'] === true) {
          skipped += 1;
          continue;
        }
        live.push(application);
        applied.push(application.eventId);
        // The same event twice in one call is applied once.
        row['processed'] = true;
      }
      // Resolved in memory over rows read in a few statements, written back in a few more.
      const clock = rows[0]?.['tx_now'];
      const view = await ChainBatchView.load(tx, live.flatMap((a) => a.intents), clock === undefined ? null : toDate(clock, 'tx_now'));
      for (const application of live) {
        const undo: UndoEntry[] = [];
        await applyIntents(view, application.intents, undo, notes);
        undo.forEach((entry, seq) => effects.push({ eventId: application.eventId, seq, entry }));
      }
      await view.flush();
      if (effects.length > 0) {
        await queryRows(
          tx,
          'applyChainEvents',
          'INSERT INTO chain_effects (event_id, seq, target, record_key, before) SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[])',
          [
            effects.map((e) => e.eventId),
            effects.map((e) => e.seq),
            effects.map((e) => e.entry.target),
            effects.map((e) => e.entry.key),
            effects.map((e) => (e.entry.before === null ? null : jsonParam(e.entry.before))),
          ],
        );
      }
      if (processedBlock !== undefined) {
        await queryRows(tx, 'applyChainEvents', 'UPDATE chain_cursors SET processed_block = $2, updated_at = NOW() WHERE chain_id = $1', [chainId, processedBlock]);
      }
      return { applied: applied.length, skipped, notes };
    });
  }

  async recordFailure(eventId: string, error: string): Promise<number | null> {
    const rows = await queryRows(this.driver, 'recordChainEventFailure', 'UPDATE events SET attempts = attempts + 1, last_error = $2 WHERE id = $1 RETURNING attempts', [
      eventId,
      error,
    ]);
    return rows[0] ? toSafeInt(rows[0]['attempts'], 'attempts') : null;
  }

  /** The links of `chainId` and the undo images of its events (tests and diagnostics). */
  async dump(chainId: number): Promise<ChainTablesDump> {
    const links = await queryRows(
      this.driver,
      'dumpChain',
      `SELECT chain_id, kind, onchain_id, record_key, data FROM chain_links WHERE chain_id = $1 ORDER BY chain_id::text || '/' || kind || '/' || onchain_id COLLATE "C"`,
      [chainId],
    );
    const effects = await queryRows(
      this.driver,
      'dumpChain',
      `SELECT f.event_id, f.seq, f.target, f.record_key, f.before FROM chain_effects f JOIN events e ON e.id = f.event_id
       WHERE e.chain_id = $1 ORDER BY f.event_id::text COLLATE "C", f.seq`,
      [chainId],
    );
    return {
      links: links.map((r) => ({
        chainId: Number(r['chain_id']),
        kind: r['kind'] as ChainLinkKind,
        onchainId: String(r['onchain_id']),
        recordKey: (r['record_key'] as string | null) ?? null,
        data: r['data'] as JsonObject,
      })),
      effects: effects.map((r) => ({
        eventId: String(r['event_id']),
        seq: Number(r['seq']),
        target: r['target'] as UndoEntry['target'],
        key: String(r['record_key']),
        before: (r['before'] as JsonObject | null) ?? null,
      })),
    };
  }
}
