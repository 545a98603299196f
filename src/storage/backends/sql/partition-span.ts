/**
 * The span of consecutive day partitions of `x402_payments`, which lets a keyed page read stop at
 * the first partition that fills it instead of opening every partition.
 *
 * Why: PostgreSQL reads an ordered range of partitions one after the other (an ordered Append, which
 * stops when the LIMIT is met) only if the DEFAULT partition is not among those the query may read,
 * because the DEFAULT partition may hold any time. Without that, a lease's first page opens one
 * index scan per day partition (a Merge Append), so its cost grows with the history kept (issue 15's
 * cost curve). A condition `payment_timestamp` inside the span excludes the DEFAULT partition at
 * plan time; the rows outside the span (the DEFAULT partition's, and any partition beyond a gap) are
 * read by a second branch with the opposite condition, so the two branches together read every row
 * exactly once whatever the catalog holds now. A stale span therefore never changes a result, only
 * the plan: a day made since falls to the second branch, a day dropped since brings the DEFAULT
 * partition back into the first (a Merge Append again) until the span is read again.
 */
import { DAY_MS } from '../../core/time.js';
import type { SqlExecutor } from './driver.js';
import { listPaymentPartitionDays } from './partitions.js';

/** A time range [from, to) covered by day partitions with no gap, as ISO instants. */
export interface PartitionSpan {
  from: string;
  to: string;
}

/**
 * The longest run of consecutive `YYYY-MM-DD` days in `days` (the newest such run on a tie), or
 * null when there is none.
 */
export function longestSpan(days: readonly string[]): PartitionSpan | null {
  const starts = [...new Set(days)].map((d) => Date.parse(`${d}T00:00:00Z`)).sort((a, b) => a - b);
  let best: [number, number] | null = null;
  let runStart = 0;
  for (let i = 0; i < starts.length; i++) {
    const day = starts[i] as number;
    if (i === 0 || day !== (starts[i - 1] as number) + DAY_MS) runStart = day;
    const run: [number, number] = [runStart, day + DAY_MS];
    if (best === null || run[1] - run[0] >= best[1] - best[0]) best = run;
  }
  return best === null ? null : { from: new Date(best[0]).toISOString(), to: new Date(best[1]).toISOString() };
}

/** How long a span read from the catalog is used before it is read again. */
export const SPAN_TTL_MS = 60_000;

/**
 * The current {@link PartitionSpan}, read from the catalog at most once per `ttlMs` (partitions
 * change a few times a day; a stale span costs speed, never correctness: see the file comment).
 * Null when `x402_payments` has no day partitions (a schema before migration 007).
 */
export class PartitionSpanCache {
  private cached: { span: PartitionSpan | null; at: number } | null = null;
  private pending: Promise<PartitionSpan | null> | null = null;

  constructor(
    private readonly db: SqlExecutor,
    private readonly ttlMs = SPAN_TTL_MS,
  ) {}

  /** The span, from the cache while it is fresh; concurrent callers share one catalog read. */
  get(now = Date.now()): Promise<PartitionSpan | null> {
    if (this.cached !== null && now - this.cached.at < this.ttlMs) return Promise.resolve(this.cached.span);
    this.pending ??= this.read(now).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forgets the span (after this process made or dropped partitions). */
  invalidate(): void {
    this.cached = null;
  }

  private async read(now: number): Promise<PartitionSpan | null> {
    const span = longestSpan(await listPaymentPartitionDays(this.db));
    this.cached = { span, at: now };
    return span;
  }
}
