/**
 * The service's copy of the cold claims' filter (migration 014): a Bloom filter of every claim the
 * move has put in the cold table, which tells the payment statement, hash by hash, whether it must
 * probe the cold claims' key. A hash the filter does not hold was never claimed cold, so the
 * statement skips the probe, whose cost grows with the whole history (docs/scale.md).
 *
 * The copy is only ever trusted together with its version: the statement compares the version it
 * is given with the database's in its own snapshot, and probes every hash when they differ. So a
 * copy that is behind (a move by another process, a refresh not yet done, a failed load) costs
 * probes, never a replay counted twice. The copy refreshes itself at most every `refreshMs`, in the
 * background, loading only the chunks changed since its version.
 */
import type { Row } from './codecs.js';
import type { SqlDriver } from './driver.js';
import { defaultStorageLogger, type StorageLogger } from './logger.js';

/** Options of {@link ColdClaimFilter}. */
export interface ColdClaimFilterOptions {
  /** Least time between two checks for a newer version (default 1,000 ms). */
  refreshMs?: number;
  /**
   * Largest filter kept in memory, in bytes (default 512 MiB; the filter takes 2 bytes per cold
   * claim). A larger one is not loaded: every payment then probes the cold key, as without a filter.
   */
  maxBytes?: number;
}

/** What the payment statement is told: the filter's version and, per hash, whether to probe. */
export interface ClaimFilterView {
  /** The version to compare with the database's; -1 when no filter is loaded (never equal). */
  version: string;
  /** False only for a hash the cold table does not hold (at {@link version}). */
  mayHold(hash: string): boolean;
}

/** Words per stored chunk (migration 014). */
const CHUNK_WORDS = 256;

/** The 16 hex digits the filter reads, from the 3rd character of a hash (after `0x`). */
const KEY_DIGITS = /^[0-9a-fA-F]{16}$/;

/** The filter's word and bits for a hash, as `x402_claim_filter_word` and `_mask` compute them; null when it cannot hold the hash. */
export function claimFilterKey(hash: string, words: number): { word: number; mask: number } | null {
  const digits = hash.slice(2, 18);
  if (!KEY_DIGITS.test(digits)) return null;
  const a = Number.parseInt(digits.slice(0, 8), 16);
  const b = Number.parseInt(digits.slice(8), 16);
  const mask = (1 << (b & 31)) | (1 << ((b >>> 5) & 31)) | (1 << ((b >>> 10) & 31)) | (1 << ((b >>> 15) & 31));
  return { word: a % words, mask };
}

const NO_FILTER: ClaimFilterView = { version: '-1', mayHold: () => true };

/** See the file comment. */
export class ColdClaimFilter {
  private readonly refreshMs: number;
  private readonly maxBytes: number;
  private words: Int32Array | null = null;
  private version = -1n;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | null = null;
  private closed = false;
  /** A load failed since the last success (logged once). */
  private failing = false;

  constructor(
    private readonly driver: SqlDriver,
    options: ColdClaimFilterOptions = {},
    private readonly logger: StorageLogger = defaultStorageLogger(),
  ) {
    this.refreshMs = options.refreshMs ?? 1_000;
    this.maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  }

  /** The filter as loaded now; starts a refresh in the background when one is due. */
  view(): ClaimFilterView {
    if (!this.closed && this.refreshing === null && performance.now() - this.checkedAt >= this.refreshMs) {
      this.refreshing = this.refresh().finally(() => (this.refreshing = null));
    }
    const words = this.words;
    if (words === null) return NO_FILTER;
    return {
      version: this.version.toString(),
      mayHold: (hash) => {
        const key = claimFilterKey(hash, words.length);
        return key === null || ((words[key.word] as number) & key.mask) === key.mask;
      },
    };
  }

  /**
   * Loads what changed since the version held: the state and the changed chunks in one statement,
   * so one snapshot. Never throws: a failure (the migration not applied yet, a lost connection)
   * keeps the copy it had, which the statement's version check makes safe.
   */
  async refresh(): Promise<void> {
    this.checkedAt = performance.now();
    try {
      const { rows } = await this.driver.query<Row>(
        `SELECT s.version, s.words AS size, c.chunk, c.words FROM x402_claim_filter_state s
           LEFT JOIN x402_claim_filter_chunks c ON c.version > $1 AND s.version <> $1`,
        [this.version.toString()],
      );
      const head = rows[0];
      if (head === undefined) return;
      const version = BigInt(head['version'] as string | number);
      if (version === this.version) return;
      const size = Number(head['size']);
      if (size * 4 > this.maxBytes) {
        if (this.words !== null) this.logger.warn({ bytes: size * 4, maxBytes: this.maxBytes }, 'cold claims filter larger than allowed: payments probe the cold claims');
        this.words = null;
        this.version = -1n;
        return;
      }
      // A rebuilt filter (another size) comes with every chunk; otherwise the chunks changed.
      const words = this.words !== null && this.words.length === size ? this.words.slice() : new Int32Array(size);
      for (const row of rows) {
        if (row['chunk'] === null || row['chunk'] === undefined) continue;
        words.set(row['words'] as number[], Number(row['chunk']) * CHUNK_WORDS);
      }
      this.words = words;
      this.version = version;
      this.failing = false;
    } catch (error) {
      // Before migration 014 the tables are missing: nothing to report.
      const missing = (error as { code?: unknown }).code === '42P01';
      if (!missing && !this.failing) this.logger.warn({ err: error }, 'cold claims filter not refreshed: payments probe the cold claims until it is');
      this.failing = true;
    }
  }

  /** Waits for a refresh in flight; no refresh starts afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.refreshing;
  }
}
