/**
 * An owner file `<path>.lock` that gives one process at a time a file or directory: the PGlite
 * data directory (PGlite takes no lock of its own, and two PostgreSQL instances writing one
 * PGDATA corrupt it) and the pending-payments file (whose compaction replaces the file). A
 * second taker, another process or a second opener in this one, is refused.
 */
import { link, readFile, rm, writeFile } from 'node:fs/promises';

/** Why {@link acquireFileLock} was refused. */
export interface LockConflict {
  /** The locked file or directory. */
  path: string;
  /** `<path>.lock`. */
  lockPath: string;
  /** `{ ownerPid }` when a live process holds the lock; empty when the lock kept changing hands. */
  details: { ownerPid?: number };
  /** The refusal in words, naming what `path` is ("PGlite data directory"). */
  describe(what: string): string;
}

/** The default refusal of {@link acquireFileLock}. */
export class FileLockError extends Error {
  override readonly name = 'FileLockError';
  constructor(readonly conflict: LockConflict) {
    super(conflict.describe('file'));
  }
}

/** Whether a process with this pid exists (signal 0 checks without touching it). */
export function isAlive(pid: number): boolean {
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

function conflict(path: string, lockPath: string, ownerPid?: number): LockConflict {
  return {
    path,
    lockPath,
    details: ownerPid === undefined ? {} : { ownerPid },
    describe: (what) =>
      ownerPid === undefined
        ? `cannot lock ${what} ${path} (lock file ${lockPath})`
        : `${what} ${path} is in use by process ${ownerPid} (lock file ${lockPath})`,
  };
}

/**
 * Takes `<path>.lock` for this process and returns the function that releases it. A lock whose
 * process no longer exists (a crash) is taken over. A lock held by a live process is refused with
 * `refuse(conflict)` (default: a {@link FileLockError}).
 */
export async function acquireFileLock(
  path: string,
  refuse: (conflict: LockConflict) => Error = (c) => new FileLockError(c),
): Promise<() => Promise<void>> {
  const lockPath = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await tryCreate(lockPath)) {
      return () => rm(lockPath, { force: true });
    }
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw refuse(conflict(path, lockPath, owner));
    // Stale lock: remove it and race for it again with O_EXCL.
    await rm(lockPath, { force: true });
  }
  throw refuse(conflict(path, lockPath));
}
