/**
 * An owner file beside a PGlite data directory. PGlite itself takes no lock on its directory, and
 * two PostgreSQL instances writing one PGDATA corrupt it; so one process owns a directory at a
 * time, and a second opener (another process, or a second driver in this one) gets a CONFLICT.
 */
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { StorageError } from './contract/errors.js';

function isAlive(pid: number): boolean {
  try {
    // Signal 0 checks existence without touching the process; EPERM still means "it exists".
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  // Write the pid first, then link() it into place: the lock file appears atomically with its
  // content, so a reader never mistakes a half-written lock for a stale one.
  const temp = `${lockPath}.${process.pid}.tmp`;
  await writeFile(temp, `${process.pid}\n`);
  try {
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Takes `<dataDir>.lock` for this process and returns the function that releases it. A lock
 * whose process no longer exists (a crash) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await tryCreate(lockPath)) {
      return () => rm(lockPath, { force: true });
    }
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new StorageError('CONFLICT', `PGlite data directory ${dataDir} is in use by process ${owner} (lock file ${lockPath})`, {
        details: { dataDir, ownerPid: owner },
      });
    }
    // Stale lock: remove it and race for it again with O_EXCL.
    await rm(lockPath, { force: true });
  }
  throw new StorageError('CONFLICT', `cannot lock PGlite data directory ${dataDir} (lock file ${lockPath})`, {
    details: { dataDir },
  });
}
