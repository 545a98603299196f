/**
 * Reads the configured contracts' logs from the node, range by range, into the store: each range
 * with the cursor in one transaction (a crash never skips or repeats one). Before each range it
 * checks the cursor block's hash against the node; when it changed, it finds the newest stored
 * block the node still agrees with, and the store rewinds to it (orphaned events removed, applied
 * effects undone). A range the node refuses (or whose answer is larger than the client accepts)
 * is halved until it is accepted.
 *
 * Throughput (docs/ingestion.md): logs are read with a raw eth_getLogs (no per-log formatting)
 * and decoded by a {@link LogDecoder} built once; while one range is stored, the next one is
 * already being read from the node and decoded. The read ahead is only used when the next step starts
 * exactly where it begins and the node still has the same hash for its last block; the store
 * still takes ranges one at a time, in order, each with its cursor.
 */
import { BaseError, numberToHex, type Abi, type Address, type Hash, type PublicClient } from 'viem';
import type { ChainCursor, ChainLogInput, Database } from '../storage/contract/database.js';
import { LogDecoder, mined, type RpcLog } from './decode.js';
import { isRangeRefusal } from './rpc.js';
import type { ChainLogger } from './logger.js';

/** Where and what to ingest. */
export interface IngesterOptions {
  chainId: number;
  contracts: readonly Address[];
  /** First block to read (the deployment block). */
  startBlock: number;
  /** Blocks at least this deep are final for processing; a reorg deeper than this is reported as deep. */
  confirmations: number;
  abi: Abi;
  /** Largest range asked for (default 2000 blocks). */
  maxBlockRange?: number;
  /** Block hashes kept for reorg detection (default 1024 blocks). */
  retainBlocks?: number;
  /** Read the next range while storing this one (default true). */
  readAhead?: boolean;
  logger: ChainLogger;
}

/** A reorg as reported in status, logs and metrics. */
export interface ReorgReport {
  detectedAt: Date;
  /** Ingested blocks that were orphaned. */
  depth: number;
  /** The first orphaned block. */
  fromBlock: number;
  /** Deeper than the confirmation depth: blocks already treated as final were replaced. */
  deep: boolean;
  removedEvents: number;
  undoneEvents: number;
}

/** What one {@link Ingester.step} did. */
export interface IngestStep {
  head: number;
  /** The cursor after the step (null before the first range). */
  ingestedBlock: number | null;
  /** Logs stored by this step. */
  ingested: number;
  reorg: ReorgReport | null;
  /** True when the cursor reached the head. */
  caughtUp: boolean;
}

const BLOCK_PAGE = 100;

/** A range read from the node: its decoded logs and the hash of its last block, read before and after them. */
interface RangeRead {
  from: number;
  to: number;
  toHash: Hash;
  logs: ChainLogInput[];
}

/** viem refusing an answer larger than its response limit: the range is too large, like a node refusal. */
function isTooLarge(error: unknown): boolean {
  return error instanceof BaseError && error.walk((e) => (e as { name?: unknown }).name === 'ResponseBodyTooLargeError') !== null;
}

/** The ingestion of one chain. */
export class Ingester {
  private range: number;
  private readonly maxRange: number;
  private readonly decoder: LogDecoder;
  /** The next range, being read while the current one is stored. */
  private ahead: { from: number; read: Promise<RangeRead | null> } | null = null;

  constructor(
    private readonly db: Database,
    private readonly client: PublicClient,
    private readonly options: IngesterOptions,
  ) {
    this.maxRange = options.maxBlockRange ?? 2000;
    this.range = this.maxRange;
    this.decoder = new LogDecoder(options.abi);
  }

  /** The range size currently asked for (it shrinks on refusals and grows back on success). */
  get blockRange(): number {
    return this.range;
  }

  private async nodeHash(blockNumber: number): Promise<Hash | null> {
    try {
      return (await this.client.getBlock({ blockNumber: BigInt(blockNumber) })).hash;
    } catch (error) {
      if (error instanceof Error && error.name === 'BlockNotFoundError') return null;
      throw error;
    }
  }

  /** Checks for a reorg, then ingests at most one range. */
  async step(): Promise<IngestStep> {
    const { chainId, startBlock } = this.options;
    const head = Number(await this.client.getBlockNumber({ cacheTime: 0 }));
    let cursor = await this.db.getChainCursor(chainId);
    let reorg: ReorgReport | null = null;
    if (cursor) {
      reorg = await this.detectReorg(cursor, head);
      if (reorg) cursor = await this.db.getChainCursor(chainId);
    }
    const from = cursor ? cursor.ingestedBlock + 1 : startBlock;
    const ahead = this.takeAhead(from);
    if (from > head) return { head, ingestedBlock: cursor?.ingestedBlock ?? null, ingested: 0, reorg, caughtUp: true };
    const read = (await this.checked(ahead)) ?? (await this.readRange(from, Math.min(head, from + this.range - 1)));
    if (!read) return { head, ingestedBlock: cursor?.ingestedBlock ?? null, ingested: 0, reorg, caughtUp: false };
    if (this.options.readAhead !== false && read.to < head) {
      const next = read.to + 1;
      const pending = this.readRange(next, Math.min(head, next + this.range - 1));
      // A failed read ahead is dropped; the next step reads the range itself and sees the error.
      pending.catch(() => undefined);
      this.ahead = { from: next, read: pending };
    }
    try {
      await this.db.ingestChainRange({
        chainId,
        fromBlock: from,
        toBlock: read.to,
        toBlockHash: read.toHash,
        logs: read.logs,
        ...(this.options.retainBlocks === undefined ? {} : { retainBlocks: this.options.retainBlocks }),
      });
    } catch (error) {
      this.ahead = null;
      throw error;
    }
    this.range = Math.min(this.maxRange, this.range * 2);
    return { head, ingestedBlock: read.to, ingested: read.logs.length, reorg, caughtUp: read.to >= head };
  }

  /** The read ahead if it starts at `from` (it is dropped either way). */
  private takeAhead(from: number): Promise<RangeRead | null> | null {
    const ahead = this.ahead;
    this.ahead = null;
    return ahead && ahead.from === from ? ahead.read : null;
  }

  /** A read ahead that succeeded and whose last block the node still has with the same hash; else null. */
  private async checked(ahead: Promise<RangeRead | null> | null): Promise<RangeRead | null> {
    if (!ahead) return null;
    const read = await ahead.catch(() => null);
    if (!read) return null;
    return (await this.nodeHash(read.to)) === read.toHash ? read : null;
  }

  /**
   * The logs of [from, to] and the hash of `to`, read so that they belong to one chain: the hash
   * is read before and after the logs, and a change (a reorg while reading) gives null, to retry.
   * A refused range is halved until the node accepts it (down to one block).
   */
  private async readRange(from: number, to: number): Promise<RangeRead | null> {
    for (;;) {
      const before = await this.nodeHash(to);
      if (before === null) return null;
      let logs: RpcLog[];
      try {
        // Raw: viem's getLogs would format every log into a new object only to be decoded again.
        logs = (await this.client.request({
          method: 'eth_getLogs',
          params: [{ address: [...this.options.contracts], fromBlock: numberToHex(from), toBlock: numberToHex(to) }],
        })) as unknown as RpcLog[];
      } catch (error) {
        if (!(isRangeRefusal(error) || isTooLarge(error)) || to === from) throw error;
        const smaller = Math.max(1, Math.floor((to - from + 1) / 2));
        this.options.logger.warn({ chainId: this.options.chainId, from, to, next: smaller }, 'node refused the log range; asking for a smaller one');
        this.range = smaller;
        to = from + smaller - 1;
        continue;
      }
      const after = await this.nodeHash(to);
      if (after !== before) return null;
      // Logs of a pending or removed block are not ours to store. Decoded here, so a range read
      // ahead is decoded while the previous one is being stored.
      return { from, to, toHash: before, logs: logs.filter(mined).map((log) => this.decoder.decodeRpc(log)) };
    }
  }

  /** Compares the cursor's block with the node; on a mismatch, rewinds the store to the common ancestor. */
  private async detectReorg(cursor: ChainCursor, head: number): Promise<ReorgReport | null> {
    const { chainId, confirmations, startBlock } = this.options;
    if (cursor.ingestedBlock <= head && (await this.nodeHash(cursor.ingestedBlock)) === cursor.ingestedBlockHash) return null;
    let ancestor: { blockNumber: number; blockHash: string } | null = null;
    let below = cursor.ingestedBlock - 1;
    let lowest = cursor.ingestedBlock;
    while (ancestor === null && below >= 0) {
      const refs = await this.db.getChainBlocks(chainId, below, BLOCK_PAGE);
      for (const ref of refs) {
        lowest = ref.blockNumber;
        if (ref.blockNumber <= head && (await this.nodeHash(ref.blockNumber)) === ref.blockHash) {
          ancestor = ref;
          break;
        }
      }
      if (refs.length < BLOCK_PAGE) break;
      below = lowest - 1;
    }
    if (ancestor === null) {
      // No stored hash still matches: go back to before the oldest one we know.
      const blockNumber = Math.max(0, Math.max(lowest, startBlock) - 1);
      const blockHash = await this.nodeHash(blockNumber);
      if (blockHash === null) throw new Error(`chain ${chainId}: block ${blockNumber} not found while rewinding after a reorg`);
      ancestor = { blockNumber, blockHash };
    }
    const depth = cursor.ingestedBlock - ancestor.blockNumber;
    const deep = depth > confirmations;
    // A deep one is recorded by the rewind itself, for an operator to acknowledge (runner.ts).
    const result = await this.db.rewindChain(chainId, ancestor.blockNumber, ancestor.blockHash, { deep });
    const report: ReorgReport = {
      detectedAt: result.deepReorg?.detectedAt ?? new Date(),
      depth,
      fromBlock: ancestor.blockNumber + 1,
      deep,
      removedEvents: result.removed,
      undoneEvents: result.undone,
    };
    const details = { chainId, ...report, notes: result.notes };
    if (report.deep) {
      this.options.logger.error(details, `DEEP REORG: ${depth} blocks replaced, deeper than the ${confirmations} confirmations; effects of ${result.undone} processed events undone`);
    } else {
      this.options.logger.warn(details, `reorg: ${depth} blocks replaced; ${result.removed} events removed`);
    }
    for (const note of result.notes) this.options.logger.warn({ chainId }, note);
    return report;
  }
}
