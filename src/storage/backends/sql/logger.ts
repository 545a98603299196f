/**
 * The logging surface of the connection layer. A pino `Logger` satisfies it; tests pass a stub.
 */
import { pino } from 'pino';

/** The few log methods the storage layer uses (pino's `(obj, msg)` calling convention). */
export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

let fallback: StorageLogger | undefined;

/**
 * The logger used when a caller passes none: pino writing to stderr, so that command output on
 * stdout (e.g. `migrate status --json`) stays parseable. Created on first use.
 */
export function defaultStorageLogger(): StorageLogger {
  fallback ??= pino({ name: 'asset-leasing-store', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  return fallback;
}
