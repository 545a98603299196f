/** The logging the chain modules need: pino's shape, so the service's logger fits as it is. */

/** A structured logger (pino-compatible). */
export interface ChainLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A logger that drops everything (tests and benches that do not read logs). */
export const SILENT_LOGGER: ChainLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
