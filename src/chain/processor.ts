/**
 * Applies ingested events in (block, log index) order, only up to the safe block (head minus the
 * confirmations) and never past what is ingested. A batch of events' effects and their processed
 * marks commit in one transaction; the store skips an event already processed, so a second
 * processor (or a restart after a crash) never applies one twice. A failing event stops
 * processing there: its error is recorded and it is retried with backoff, never skipped.
 */
import type { ChainApplication, Database, StoredEvent } from '../storage/contract/database.js';
import { isStorageError } from '../storage/contract/errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { HANDLERS, intentsFor, type EventHandler } from './handlers.js';
import type { ChainLogger } from './logger.js';
import { describeError } from './rpc.js';

/** Options of a {@link Processor}. */
export interface ProcessorOptions {
  chainId: number;
  /** Events per transaction (default 1000). */
  batchSize?: number;
  handlers?: Readonly<Record<string, EventHandler>>;
  /** Backoff of a failing event's retries (default 200 ms doubling to 30 s). */
  retry?: BackoffOptions;
  logger: ChainLogger;
}

/** The event processing is stopped at. */
export interface ProcessingFailure {
  eventId: string;
  eventName: string;
  blockNumber: number;
  logIndex: number;
  attempts: number;
  error: string;
  retryAt: Date;
}

/** What one {@link Processor.step} did. */
export interface ProcessStep {
  processed: number;
  /** More events are ready (the batch was full). */
  more: boolean;
  /** Set while processing is stopped at a failing event. */
  failure: ProcessingFailure | null;
}

/** The processing of one chain. */
export class Processor {
  private failure: ProcessingFailure | null = null;
  private readonly batchSize: number;
  private readonly handlers: Readonly<Record<string, EventHandler>>;

  constructor(
    private readonly db: Database,
    private readonly options: ProcessorOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.handlers = options.handlers ?? HANDLERS;
  }

  /** The failure processing is stopped at, if any. */
  get currentFailure(): ProcessingFailure | null {
    return this.failure;
  }

  /** Processes one batch of events up to `safeBlock`. */
  async step(safeBlock: number, now = new Date()): Promise<ProcessStep> {
    const { chainId } = this.options;
    if (this.failure && now < this.failure.retryAt) return { processed: 0, more: false, failure: this.failure };
    const cursor = await this.db.getChainCursor(chainId);
    if (!cursor || safeBlock < 0) return { processed: 0, more: false, failure: null };
    const through = Math.min(safeBlock, cursor.ingestedBlock);
    const events = await this.db.getPendingChainEvents(chainId, through, this.batchSize);
    const full = events.length === this.batchSize;
    const applications: ChainApplication[] = [];
    let failing: { event: StoredEvent; error: unknown } | null = null;
    for (const event of events) {
      try {
        applications.push({ eventId: event.id, intents: intentsFor(event, chainId, this.handlers) });
      } catch (error) {
        failing = { event, error };
        break;
      }
    }
    // Everything below the first unprocessed event is processed: the block before it, or all of
    // `through` when the batch held every remaining event.
    const last = events[events.length - 1];
    const processedBlock = failing ? failing.event.blockNumber - 1 : full && last ? last.blockNumber - 1 : through;
    let processed: number;
    try {
      processed = await this.apply(applications, processedBlock);
    } catch (error) {
      // One of the batch refused: apply one at a time to find it and stop there.
      const found = await this.applyOneByOne(events, applications);
      processed = found.processed;
      failing = found.failing ?? { event: events[0] as StoredEvent, error };
    }
    if (failing) {
      await this.fail(failing.event, failing.error, now);
      return { processed, more: false, failure: this.failure };
    }
    this.failure = null;
    return { processed, more: full, failure: null };
  }

  private async apply(applications: ChainApplication[], processedBlock: number): Promise<number> {
    const result = await this.db.applyChainEvents(this.options.chainId, applications, processedBlock < 0 ? undefined : processedBlock);
    for (const note of result.notes) this.options.logger.warn({ chainId: this.options.chainId }, note);
    return result.applied;
  }

  private async applyOneByOne(events: StoredEvent[], applications: ChainApplication[]): Promise<{ processed: number; failing: { event: StoredEvent; error: unknown } | null }> {
    let processed = 0;
    for (const [i, application] of applications.entries()) {
      const event = events[i] as StoredEvent;
      try {
        processed += await this.apply([application], event.blockNumber - 1);
      } catch (error) {
        return { processed, failing: { event, error } };
      }
    }
    return { processed, failing: null };
  }

  private async fail(event: StoredEvent, error: unknown, now: Date): Promise<void> {
    const message = describeError(error);
    let attempts = (event.attempts ?? 0) + 1;
    try {
      attempts = await this.db.recordChainEventFailure(event.id, message);
    } catch (recordError) {
      // The store may be what failed; the in-memory record still stops processing here.
      this.options.logger.error({ err: describeError(recordError) }, 'could not record a processing failure');
    }
    const retryAt = new Date(now.getTime() + backoffDelay(attempts - 1, this.options.retry));
    this.failure = { eventId: event.id, eventName: event.eventName, blockNumber: event.blockNumber, logIndex: event.logIndex, attempts, error: message, retryAt };
    const transient = isStorageError(error) && error.retryable;
    this.options.logger.error(
      { chainId: this.options.chainId, event: `${event.transactionHash}:${event.logIndex}`, eventName: event.eventName, attempts, retryAt, transient },
      `processing stopped at ${event.eventName} (block ${event.blockNumber}, log ${event.logIndex}): ${message}`,
    );
  }
}
