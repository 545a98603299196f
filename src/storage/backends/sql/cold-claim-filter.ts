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
 * background: a check of the version, and the whole filter again when it changed (once a move,
 * hourly). A version is random, so it names one content even across a restore from a backup; a
 * copy is therefore only ever loaded whole, never patched onto an older one.
 */
import type { Row } from './codecs.js';
import type { SqlDriver } from './driver.js';
import { defaultStorageLogger, type StorageLogger } from './logger.js';

/** Options of {@link ColdClaimFilter}. */
export interface ColdClaimFilterOptions {
  /** Least time between two checks of the version (default 1,000 ms). */
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

/** The value of a hex digit's character code; -1 for anything else (NaN past the string's end included). */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** The 8 hex digits of `hash` from `start` as a number (0 to 2^32 - 1); -1 when one is not hex. */
function hex32(hash: string, start: number): number {
  let value = 0;
  for (let i = start; i < start + 8; i++) {
    const digit = hexDigit(hash.charCodeAt(i));
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * The filter's word and bits for a hash, as `x402_claim_filter_word` and `_mask` compute them from
 * its 3rd to 18th characters; null when those are not hex (the filter cannot hold the hash).
 */
export function claimFilterKey(hash: string, words: number): { word: number; mask: number } | null {
  const a = hex32(hash, 2);
  const b = hex32(hash, 10);
  if (a < 0 || b < 0) return null;
  const mask = (1 << (b & 31)) | (1 << ((b >>> 5) & 31)) | (1 << ((b >>> 10) & 31)) | (1 << ((b >>> 15) & 31));
  return { word: a % words, mask };
}

/**
 * Copies a chunk's words from `array_send`'s binary form of a one-dimensional INTEGER[] of
 * {@link CHUNK_WORDS} elements (a 20-byte header, then each element as its length, 4, and its
 * value, big-endian) into `into` from `at`. Checked, since a wrong word could say "absent".
 */
function readChunk(bytes: Uint8Array, into: Int32Array, at: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength !== 20 + CHUNK_WORDS * 8 || view.getInt32(0) !== 1 || view.getInt32(12) !== CHUNK_WORDS) {
    throw new Error(`a cold claims filter chunk is not ${CHUNK_WORDS} integers`);
  }
  if (at < 0 || at + CHUNK_WORDS > into.length) throw new Error(`a cold claims filter chunk lies outside its ${into.length} words`);
  for (let i = 0; i < CHUNK_WORDS; i++) into[at + i] = view.getInt32(24 + i * 8);
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
   * Loads the filter when its version is not the one held: the state and every chunk in one
   * statement, so one snapshot. Never throws: a failure (the migration not applied yet, a lost
   * connection) keeps the copy it had, which the statement's version check makes safe.
   */
  async refresh(): Promise<void> {
    this.checkedAt = performance.now();
    try {
      const { rows } = await this.driver.query<Row>(
        `SELECT s.version, s.words AS size, c.chunk, array_send(c.words) AS words FROM x402_claim_filter_state s
           LEFT JOIN x402_claim_filter_chunks c ON s.version <> $1 AND s.words * 4 <= $2`,
        [this.version.toString(), this.maxBytes],
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
      const words = new Int32Array(size);
      let chunks = 0;
      for (const row of rows) {
        if (row['chunk'] === null || row['chunk'] === undefined) continue;
        readChunk(row['words'] as Uint8Array, words, Number(row['chunk']) * CHUNK_WORDS);
        chunks++;
      }
      // Every chunk or none: a missing one would read as "absent" for every hash it holds.
      if (chunks * CHUNK_WORDS !== size) throw new Error(`the cold claims filter has ${chunks} chunks for ${size} words`);
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
