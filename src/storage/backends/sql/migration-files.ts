/**
 * The migration files on disk: `NNN_name.sql`, ordered by number, identified by their sha256.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../../contract/errors.js';

/** `<repo>/migrations`, resolved from this module's location (src/storage/backends/sql/). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../../migrations/', import.meta.url));

/** One migration file. */
export interface MigrationFile {
  /** The number prefix (`002_x.sql` is 2). */
  version: number;
  /** The part after the number, without `.sql` (`x`). */
  name: string;
  /** The file name. */
  fileName: string;
  /** The file's SQL text. */
  sql: string;
  /** sha256 (hex) of the text with CRLF line ends normalized to LF. */
  sha256: string;
}

const FILE_PATTERN = /^(\d{3,})_([A-Za-z0-9_-]+)\.sql$/;

/**
 * The hash recorded in the ledger. Line ends are normalized so that a checkout with
 * `core.autocrlf` does not look like an edited migration; any other byte change does.
 */
export function migrationSha256(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/**
 * Reads every `.sql` file of `dir`, sorted by version. A `.sql` file that does not match
 * `NNN_name.sql` (at least three digits) or repeats a version is a VALIDATION error rather than
 * being skipped, so a typo never silently leaves a migration out. Other files are ignored.
 */
export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new StorageError('VALIDATION', `cannot read the migrations directory ${dir}`, { field: 'dir', cause: error });
  }
  const files: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const fileName of entries.filter((entry) => entry.endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(fileName);
    if (match === null || match[1] === undefined || match[2] === undefined) {
      throw new StorageError('VALIDATION', `migration file name "${fileName}" is not NNN_name.sql`, {
        field: 'dir',
        details: { fileName },
      });
    }
    const version = Number.parseInt(match[1], 10);
    const other = seen.get(version);
    if (other !== undefined) {
      throw new StorageError('VALIDATION', `migrations "${other}" and "${fileName}" have the same version ${version}`, {
        field: 'dir',
        details: { version },
      });
    }
    seen.set(version, fileName);
    const sql = await readFile(join(dir, fileName), 'utf8');
    files.push({ version, name: match[2], fileName, sql, sha256: migrationSha256(sql) });
  }
  return files.sort((a, b) => a.version - b.version);
}
