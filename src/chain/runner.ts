/**
 * Runs ingestion and processing of one chain continuously, as the leader: it takes the store's
 * `chain:<chainId>` leadership (a PostgreSQL advisory lock on a dedicated connection), and while
 * it holds it, ingests ranges and processes safe events; a standby polls for the leadership and
 * takes over within a poll interval when the leader's connection dies. Failures back off (bounded,
 * jittered). Its status feeds `/api/system/status`, `/metrics` and readiness.
 */
import type { Abi, Address, PublicClient } from 'viem';
import type { Database, Leadership, StoredDeepReorg } from '../storage/contract/database.js';
import { backoffDelay, Sleeper, type BackoffOptions } from './backoff.js';
import { PROTOCOL_EVENTS_ABI } from './events-abi.js';
import type { EventHandler } from './handlers.js';
import { Ingester, type ReorgReport } from './ingester.js';
import type { ChainLogger } from './logger.js';
import { Processor, type ProcessingFailure } from './processor.js';
import { describeError } from './rpc.js';

/** Options of a {@link ChainRunner}. */
export interface ChainRunnerOptions {
  chainId: number;
  contracts: readonly Address[];
  startBlock: number;
  /** Blocks a block must be below the head to be processed (default 2). */
  confirmations?: number;
  /** Pause between rounds when caught up (default 1000 ms). */
  pollMs?: number;
  /** Readiness fails when head minus processed block exceeds this (default: no bound). */
  maxLagBlocks?: number;
  maxBlockRange?: number;
  batchSize?: number;
  retainBlocks?: number;
  backoff?: BackoffOptions;
  abi?: Abi;
  handlers?: Readonly<Record<string, EventHandler>>;
  logger: ChainLogger;
  /** Counters fed as the runner works (Prometheus in the service). */
  onIngested?: (count: number) => void;
  onProcessed?: (count: number) => void;
  onReorg?: (report: ReorgReport) => void;
}

/** What `/api/system/status` shows under `chain`. */
export interface ChainStatus {
  chainId: number;
  headBlock: number | null;
  /** Head minus confirmations: the highest block processed. */
  safeBlock: number | null;
  ingestedBlock: number | null;
  processedBlock: number | null;
  /** Head minus processed block. */
  lag: number | null;
  /** Ingested events not yet processed. */
  backlog: number | null;
  lastReorg: { detectedAt: string; depth: number; fromBlock: number; deep: boolean } | null;
  /**
   * A reorg deeper than the confirmations was seen and no operator has acknowledged it yet:
   * readiness fails until one does ({@link ChainRunner.acknowledgeDeepReorg}). The store keeps it,
   * so a restart does not clear it, and every instance on the store fails readiness alike.
   */
  deepReorg: boolean;
  /** The deep reorgs waiting for an operator's acknowledgement, oldest first. */
  unacknowledgedDeepReorgs: ReorgSummary[];
  /**
   * The last acknowledgement made through this runner since it started: who, when, why, and which
   * deep reorgs it cleared (null: none yet). The store marks each acknowledged reorg the same way.
   */
  lastAcknowledgement: DeepReorgAcknowledgement | null;
  leader: boolean;
  lastError: string | null;
  /** The event processing is stopped at, while it fails. */
  failingEvent: ProcessingFailure | null;
}

/** A reorg as status and acknowledgements show it. */
export interface ReorgSummary {
  detectedAt: string;
  depth: number;
  fromBlock: number;
  deep: boolean;
}

/** An operator's acknowledgement of the deep reorgs seen so far. */
export interface DeepReorgAcknowledgement {
  /** Who acknowledged (an operator's name, as given). */
  by: string;
  /** What they checked or decided (free text, may be empty). */
  note: string;
  acknowledgedAt: string;
  /** The deep reorgs it cleared. */
  reorgs: ReorgSummary[];
}

/**
 * Why an acknowledgement was refused: nothing to acknowledge, or processing has not yet
 * re-applied the replacing blocks (the store does not reflect the chain there yet).
 */
export class ReorgAcknowledgementRefused extends Error {
  override readonly name = 'ReorgAcknowledgementRefused';
  constructor(
    readonly code: 'NO_DEEP_REORG' | 'CHAIN_NOT_CAUGHT_UP',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const summary = (r: ReorgReport): ReorgSummary => ({ detectedAt: r.detectedAt.toISOString(), depth: r.depth, fromBlock: r.fromBlock, deep: r.deep });
const storedSummary = (r: StoredDeepReorg): ReorgSummary => ({ detectedAt: r.detectedAt.toISOString(), depth: r.depth, fromBlock: r.fromBlock, deep: true });

/** Counts since the runner was made (Prometheus counters read them). */
export interface ChainTotals {
  ingested: number;
  processed: number;
  reorgs: number;
  deepReorgs: number;
}

/** What a service reads of a running chain ingestion (status, readiness, metrics). */
export type ChainMonitor = Pick<ChainRunner, 'status' | 'notReadyReason' | 'totals' | 'acknowledgeDeepReorg'>;

/** The continuous ingestion and processing of one chain. */
export class ChainRunner {
  private readonly ingester: Ingester;
  private readonly processor: Processor;
  private readonly sleeper = new Sleeper();
  private readonly confirmations: number;
  private readonly pollMs: number;
  private leadership: Leadership | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private failures = 0;
  private head: number | null = null;
  private lastReorg: ReorgReport | null = null;
  private lastAcknowledgement: DeepReorgAcknowledgement | null = null;
  private lastError: string | null = null;
  private readonly counts: ChainTotals = { ingested: 0, processed: 0, reorgs: 0, deepReorgs: 0 };

  constructor(
    private readonly db: Database,
    client: PublicClient,
    private readonly options: ChainRunnerOptions,
  ) {
    this.confirmations = options.confirmations ?? 2;
    this.pollMs = options.pollMs ?? 1000;
    this.ingester = new Ingester(db, client, {
      chainId: options.chainId,
      contracts: options.contracts,
      startBlock: options.startBlock,
      confirmations: this.confirmations,
      abi: options.abi ?? PROTOCOL_EVENTS_ABI,
      logger: options.logger,
      ...(options.maxBlockRange === undefined ? {} : { maxBlockRange: options.maxBlockRange }),
      ...(options.retainBlocks === undefined ? {} : { retainBlocks: options.retainBlocks }),
    });
    this.processor = new Processor(db, {
      chainId: options.chainId,
      logger: options.logger,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.handlers === undefined ? {} : { handlers: options.handlers }),
      ...(options.backoff === undefined ? {} : { retry: options.backoff }),
    });
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.stopping = false;
    this.loop ??= this.run().finally(() => {
      this.loop = null;
    });
  }

  /** Stops after the current step and gives leadership up. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    await this.loop;
  }

  /** Events ingested and processed, reorgs and deep reorgs seen by this runner. */
  get totals(): ChainTotals {
    return { ...this.counts };
  }

  /** True while this runner holds the leadership. */
  get isLeader(): boolean {
    return this.leadership?.isHeld() === true;
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        let wait = this.pollMs;
        try {
          if (!this.isLeader) {
            this.leadership = await this.db.tryLeadership(`chain:${this.options.chainId}`);
            if (this.leadership) this.options.logger.info({ chainId: this.options.chainId }, 'chain processor: leader');
          }
          if (this.isLeader) wait = (await this.round()) ? 0 : this.pollMs;
          this.failures = 0;
        } catch (error) {
          this.lastError = describeError(error);
          wait = backoffDelay(this.failures, this.options.backoff);
          this.failures += 1;
          this.options.logger.warn({ chainId: this.options.chainId, err: this.lastError, retryInMs: wait }, 'chain round failed; backing off');
        }
        if (wait > 0 && !this.stopping) await this.sleeper.sleep(wait);
      }
    } finally {
      await this.leadership?.release();
      this.leadership = null;
    }
  }

  /** One round: ingest a range, process a batch. True when there is more to do right away. */
  private async round(): Promise<boolean> {
    const ingest = await this.ingester.step();
    this.head = ingest.head;
    this.counts.ingested += ingest.ingested;
    if (ingest.ingested > 0) this.options.onIngested?.(ingest.ingested);
    if (ingest.reorg) {
      this.lastReorg = ingest.reorg;
      this.counts.reorgs += 1;
      // A deep one is in the store already (the rewind recorded it), where readiness reads it.
      if (ingest.reorg.deep) this.counts.deepReorgs += 1;
      this.options.onReorg?.(ingest.reorg);
    }
    // Leadership may have been lost while ingesting; the store would skip duplicates anyway.
    if (!this.isLeader) return false;
    const processed = await this.processor.step(ingest.head - this.confirmations);
    this.counts.processed += processed.processed;
    if (processed.processed > 0) this.options.onProcessed?.(processed.processed);
    this.lastError = processed.failure ? processed.failure.error : null;
    return !ingest.caughtUp || processed.more;
  }

  /** The current status (reads the store's cursor, backlog and unacknowledged deep reorgs). */
  async status(): Promise<ChainStatus> {
    const { chainId } = this.options;
    const [cursor, backlog, unacknowledged] = await Promise.all([
      this.db.getChainCursor(chainId),
      this.db.countPendingChainEvents(chainId),
      this.db.getUnacknowledgedDeepReorgs(chainId),
    ]);
    const processedBlock = cursor?.processedBlock ?? null;
    const head = this.head;
    return {
      chainId,
      headBlock: head,
      safeBlock: head === null ? null : Math.max(0, head - this.confirmations),
      ingestedBlock: cursor?.ingestedBlock ?? null,
      processedBlock,
      lag: this.lagBehind(processedBlock),
      backlog,
      lastReorg: this.lastReorg ? summary(this.lastReorg) : null,
      deepReorg: unacknowledged.length > 0,
      unacknowledgedDeepReorgs: unacknowledged.map(storedSummary),
      lastAcknowledgement: this.lastAcknowledgement,
      leader: this.isLeader,
      lastError: this.lastError,
      failingEvent: this.processor.currentFailure,
    };
  }

  /** Why the service is not ready on account of the chain, or null when it is. */
  async notReadyReason(): Promise<string | null> {
    const unacknowledged = await this.db.getUnacknowledgedDeepReorgs(this.options.chainId);
    if (unacknowledged.length > 0) return 'a reorg deeper than the confirmation depth was detected and awaits an operator\'s acknowledgement';
    const bound = this.options.maxLagBlocks;
    if (bound === undefined) return null;
    // The cursor alone: a probe needs neither the backlog's count nor the reorgs read again.
    const lag = this.lagBehind((await this.db.getChainCursor(this.options.chainId))?.processedBlock ?? null);
    return lag !== null && lag > bound ? `chain processing lags ${lag} blocks (bound ${bound})` : null;
  }

  /** Head minus the processed block (before the first, the block before the start), null before the head is known. */
  private lagBehind(processedBlock: number | null): number | null {
    return this.head === null ? null : this.head - (processedBlock ?? this.options.startBlock - 1);
  }

  /**
   * An operator's acknowledgement of the deep reorgs seen so far: readiness passes again. A deep
   * reorg replaced blocks the store had treated as final, and what was done on the strength of
   * them (access granted, payments booked against a lease the new chain may not have) needs a
   * person to look; so it never clears by itself. It is refused until processing has re-applied
   * the replacing chain at least as deep as the orphaned blocks reached (the store reflects the
   * chain again), and when there is nothing to acknowledge. A later deep reorg needs its own.
   * The reorgs and their acknowledgement are the store's, so it may be made through any instance.
   */
  async acknowledgeDeepReorg(by: string, note = ''): Promise<DeepReorgAcknowledgement> {
    const pending = await this.db.getUnacknowledgedDeepReorgs(this.options.chainId);
    if (pending.length === 0) throw new ReorgAcknowledgementRefused('NO_DEEP_REORG', 'no deep reorg awaits acknowledgement');
    const cursor = await this.db.getChainCursor(this.options.chainId);
    const processed = cursor?.processedBlock ?? null;
    const needed = Math.max(...pending.map((r) => r.fromBlock + r.depth - 1));
    if (processed === null || processed < needed) {
      throw new ReorgAcknowledgementRefused('CHAIN_NOT_CAUGHT_UP', `processing has reached block ${processed ?? 'none'}; the replacing chain must be processed through block ${needed} first`, {
        processedBlock: processed,
        neededBlock: needed,
      });
    }
    // Only the reorgs read above: one detected meanwhile stays unacknowledged. Those another
    // instance acknowledged meanwhile are not marked twice.
    const marked = await this.db.acknowledgeDeepReorgs(this.options.chainId, pending.map((r) => r.id), by, note);
    const first = marked[0];
    if (first === undefined || first.acknowledgedAt === null || first.acknowledgedBy === null) {
      throw new ReorgAcknowledgementRefused('NO_DEEP_REORG', 'no deep reorg awaits acknowledgement (acknowledged meanwhile)');
    }
    const acknowledgement: DeepReorgAcknowledgement = { by: first.acknowledgedBy, note, acknowledgedAt: first.acknowledgedAt.toISOString(), reorgs: marked.map(storedSummary) };
    this.lastAcknowledgement = acknowledgement;
    this.options.logger.warn({ chainId: this.options.chainId, ...acknowledgement }, `DEEP REORG ACKNOWLEDGED by ${acknowledgement.by}: readiness restored`);
    return acknowledgement;
  }
}
