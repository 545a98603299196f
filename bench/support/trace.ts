/**
 * Wraps a SqlDriver's transactions to see where group-commit time goes: transactions, payments
 * per transaction, and time per statement kind. Benchmark-only instrumentation; it costs two
 * clock reads per statement.
 */
import type { QueryOptions, SqlDriver, SqlExecutor } from '../../src/storage/backends/sql/driver.js';
import { RECORD_ONE_PAYMENT_STATEMENT, RECORD_PAYMENTS_STATEMENT } from '../../src/storage/backends/sql/payment-statements.js';
import { nowNs } from './stats.js';

/** Totals of a traced interval. */
export interface Trace {
  transactions: number;
  /** Payments inserted (rows of the multi-row payment INSERT). */
  items: number;
  transactionMs: number;
  outsideStatementsMs: number;
  statements: Record<string, { count: number; ms: number }>;
}

const KINDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\s*SELECT lease_id, status/i, 'selectLeases'],
  [/^\s*SELECT \* FROM x402_payments WHERE facilitator_tx_hash/i, 'selectReplays'],
  [/^\s*SELECT b\.lease_id/i, 'selectSettled'],
  [/^\s*INSERT INTO x402_payments/i, 'insertPayments'],
  // Migration 007: the payment insert claims its settlement hash in the same statement.
  [/^\s*WITH input AS/i, 'insertPayments'],
  [/^\s*SELECT h\.facilitator_tx_hash AS claimed_hash/i, 'selectReplays'],
  [/^\s*INSERT INTO x402_batches/i, 'upsertBatches'],
];

function kindOf(text: string): string {
  for (const [pattern, kind] of KINDS) if (pattern.test(text)) return kind;
  return text.trim().split(/\s+/).slice(0, 3).join('_').replace(/[^A-Za-z0-9_]/g, '');
}

/**
 * Starts tracing `driver.transaction` and the one-statement payment path (`driver.query` of the
 * prepared payment statement, a transaction of its own); `stop()` restores both and returns the totals.
 */
export function traceDriver(driver: SqlDriver): { stop(): Trace } {
  const trace: Trace = { transactions: 0, items: 0, transactionMs: 0, outsideStatementsMs: 0, statements: {} };
  const own = Object.getOwnPropertyDescriptor(driver, 'transaction');
  const ownQuery = Object.getOwnPropertyDescriptor(driver, 'query');
  const originalQuery = driver.query.bind(driver);
  driver.query = (async <R>(text: string, params?: readonly unknown[], options?: QueryOptions) => {
    const one = options?.name === RECORD_ONE_PAYMENT_STATEMENT;
    if (!one && options?.name !== RECORD_PAYMENTS_STATEMENT) return originalQuery<R>(text, params, options);
    const t0 = nowNs();
    try {
      return await originalQuery<R>(text, params, options);
    } finally {
      const ms = (nowNs() - t0) / 1e6;
      trace.transactions += 1;
      trace.items += one ? 1 : Array.isArray(params?.[0]) ? params[0].length : 0;
      trace.transactionMs += ms;
      const s = (trace.statements['recordPayments'] ??= { count: 0, ms: 0 });
      s.count += 1;
      s.ms += ms;
    }
  }) as SqlDriver['query'];
  const original = driver.transaction.bind(driver);
  driver.transaction = (<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
    const start = nowNs();
    let inStatements = 0;
    const traced = (tx: SqlExecutor): SqlExecutor => ({
      query: async <R>(text: string, params?: readonly unknown[], options?: QueryOptions) => {
        const t0 = nowNs();
        try {
          return await tx.query<R>(text, params, options);
        } finally {
          const ns = nowNs() - t0;
          inStatements += ns;
          const kind = kindOf(text);
          const s = (trace.statements[kind] ??= { count: 0, ms: 0 });
          s.count += 1;
          s.ms += ns / 1e6;
          if (kind === 'insertPayments') trace.items += (params?.length ?? 0) / 8;
        }
      },
    });
    return original((tx) => fn(traced(tx))).finally(() => {
      const total = nowNs() - start;
      trace.transactions += 1;
      trace.transactionMs += total / 1e6;
      trace.outsideStatementsMs += (total - inStatements) / 1e6;
    });
  }) as SqlDriver['transaction'];
  return {
    stop: () => {
      if (own) Object.defineProperty(driver, 'transaction', own);
      else delete (driver as Partial<SqlDriver>).transaction;
      if (ownQuery) Object.defineProperty(driver, 'query', ownQuery);
      else delete (driver as Partial<SqlDriver>).query;
      return trace;
    },
  };
}
