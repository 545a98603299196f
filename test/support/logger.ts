/** A {@link StorageLogger} that records instead of printing, for asserting on warnings. */
import type { StorageLogger } from '../../src/storage/backends/sql/logger.js';

/** One recorded log call. */
export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

/** A logger and the entries it has recorded so far. */
export function recordingLogger(): { logger: StorageLogger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push({ level, obj, msg });
  };
  return { logger: { info: record('info'), warn: record('warn'), error: record('error') }, entries };
}
