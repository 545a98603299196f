/**
 * Helpers of the migration tests (targets come from test/support/backends.ts, the CLI runner from
 * test/support/cli.ts): a quiet logger and a temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingLogger } from '../support/logger.js';

/**
 * A logger that keeps pool warnings out of the test output: pg-pool's end() resolves before its
 * sockets close, so dropping a database WITH (FORCE) right after disconnect() can make a closing
 * idle connection report "terminating connection due to administrator command".
 */
export function quietLogger(): ReturnType<typeof recordingLogger>['logger'] {
  return recordingLogger().logger;
}

/** A fresh temporary directory and its removal. */
export async function tempDir(): Promise<{ dir: string; file: (name: string) => string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'migration-test-'));
  return { dir, file: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}
