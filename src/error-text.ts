/**
 * An error as the `reason` of a log line: a storage error's code and message, any other error's
 * message, with passwords and other secrets masked (a driver's message can quote a connection URL).
 * The service's log lines and the CLI's error output both use it.
 */
import { isStorageError } from './storage/contract/errors.js';
import { scrubSecrets } from './util/scrub-secrets.js';

/** See the module comment. */
export function describeError(error: unknown): string {
  const text = isStorageError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return scrubSecrets(text);
}
