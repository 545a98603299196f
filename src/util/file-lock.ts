/**
 * A lock that gives one process at a time a file or directory: the PGlite data directory (PGlite
 * takes no lock of its own, and two PostgreSQL instances writing one PGDATA corrupt it) and the
 * pending-payments file (whose compaction replaces the file). A second taker, another process or
 * a second opener in this one, is refused.
 *
 * The lock is a directory `<path>.lock/` of generation files `1`, `2`, ... The highest one names
 * the owner: its pid, a random token, and where and when that process started (host name, boot
 * id, PID namespace, process start time). Built on two atomic primitives only:
 *
 * - **Claiming** generation `n + 1` is `link()` of a fully written file, which fails when the name
 *   exists: of any number of processes that found generation `n` free, exactly one creates
 *   `n + 1`. The others see it and are refused. Nothing is ever removed before it is claimed, so
 *   there is no "remove the stale lock, then create mine" window in which two takers both win.
 *   Generations only grow: releasing rewrites the owner's file as released (an atomic rename)
 *   instead of deleting it, and a claimer that finds a later generation after claiming backs off.
 * - **Liveness** of an owner is decided by identity, not by pid alone: a process of this PID
 *   namespace is alive only if its pid runs *and* started when the lock says (so a reused pid,
 *   including our own after a container restart, is recognised as a dead owner); our own pid is
 *   alive only with a token this process holds. An owner this process cannot inspect (another
 *   host, boot or PID namespace, e.g. the previous container on a shared volume) refreshes its
 *   file's mtime every `refreshMs` (a heartbeat); it is dead once the heartbeat is `staleMs` old,
 *   and a taker watches it that long before deciding.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, mkdir, readFile, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Why {@link acquireFileLock} was refused. */
export interface LockConflict {
  /** The locked file or directory. */
  path: string;
  /** `<path>.lock`, the lock directory. */
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

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How often the owner refreshes its lock file's mtime (default 5 s). */
  refreshMs?: number;
  /** Age of the heartbeat after which an owner this process cannot inspect is dead (default 30 s). */
  staleMs?: number;
}

/** What a generation file holds. */
export interface LockOwner {
  pid: number;
  /** Random, per acquisition: tells this process's own locks from a dead process's with the same pid. */
  token: string;
  host: string;
  /** Linux boot id, null where there is none. */
  boot: string | null;
  /** PID namespace (`pid:[4026531836]`), null where there is none. */
  pidNamespace: string | null;
  /** Start time of the process in clock ticks since boot (Linux), null where unknown. */
  startTime: string | null;
  acquiredAt: string;
  /** Set when the owner released the lock. */
  releasedAt?: string;
}

const DEFAULT_REFRESH_MS = 5_000;
const DEFAULT_STALE_MS = 30_000;
const MAX_ATTEMPTS = 50;

/** Tokens of the locks this process holds. */
const held = new Set<string>();

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

function readOrNull(read: () => string): string | null {
  try {
    return read().trim() || null;
  } catch {
    return null;
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function processStartTime(pid: number): string | null {
  const stat = readOrNull(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  // The command name (field 2) is in parentheses and may contain spaces; count after its ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19] ?? null;
}

let self: Omit<LockOwner, 'token' | 'acquiredAt'> | undefined;

/** Who this process is, as a lock owner. */
function whoAmI(): Omit<LockOwner, 'token' | 'acquiredAt'> {
  self ??= {
    pid: process.pid,
    host: hostname(),
    boot: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
    startTime: processStartTime(process.pid),
  };
  return self;
}

/** 'alive', 'dead', or 'unknown' when the owner runs where this process cannot look (heartbeat decides). */
function ownerState(owner: LockOwner): 'alive' | 'dead' | 'unknown' {
  if (owner.releasedAt !== undefined) return 'dead';
  if (held.has(owner.token)) return 'alive';
  const me = whoAmI();
  if (owner.host !== me.host || owner.boot !== me.boot || owner.pidNamespace !== me.pidNamespace) return 'unknown';
  // Same host, boot and PID namespace: the pid means the same thing here as for the owner.
  if (owner.pid === me.pid) return 'dead'; // our pid, not our token: the previous process with this pid
  if (!isAlive(owner.pid)) return 'dead';
  if (owner.startTime !== null && processStartTime(owner.pid) !== owner.startTime) return 'dead'; // pid reused
  return 'alive';
}

function parseOwner(text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.token === 'string' ? (owner as LockOwner) : null;
  } catch {
    return null;
  }
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** The generations in the lock directory, ascending. */
async function generations(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch((error: unknown) => {
    if (isMissing(error)) return [];
    throw error;
  });
  return names.filter((n) => /^\d{1,15}$/.test(n)).map(Number).sort((a, b) => a - b);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Watches the heartbeat of an owner this process cannot inspect: 'dead' once its mtime is
 * `staleMs` old, 'alive' when the owner refreshes it, 'changed' when the file was replaced.
 */
async function watchHeartbeat(file: string, token: string, options: Required<FileLockOptions>): Promise<'alive' | 'dead' | 'changed'> {
  const first = await stat(file).catch(() => null);
  if (first === null) return 'changed';
  const poll = Math.max(10, Math.min(options.refreshMs, options.staleMs) / 4);
  for (;;) {
    const age = Date.now() - first.mtimeMs;
    if (age >= options.staleMs) return 'dead';
    await sleep(Math.min(poll, options.staleMs - age));
    const now = await readFile(file, 'utf8').catch(() => null);
    if (now === null || parseOwner(now)?.token !== token) return 'changed';
    const current = await stat(file).catch(() => null);
    if (current === null) return 'changed';
    if (current.mtimeMs !== first.mtimeMs) return 'alive';
  }
}

/** A lock file of the earlier format (`<path>.lock` holding a pid): kept if its process runs, else removed. */
async function clearOldFormat(lockPath: string): Promise<number | null> {
  const info = await stat(lockPath).catch(() => null);
  if (info === null || info.isDirectory()) return null;
  const pid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
  // That format could not tell our pid from a dead process's, and we hold no lock in it.
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) return pid;
  await unlink(lockPath).catch(() => undefined); // another taker may have replaced it already
  return null;
}

function conflict(path: string, lockPath: string, ownerPid?: number): LockConflict {
  return {
    path,
    lockPath,
    details: ownerPid === undefined ? {} : { ownerPid },
    describe: (what) =>
      ownerPid === undefined
        ? `cannot lock ${what} ${path} (lock ${lockPath})`
        : `${what} ${path} is in use by process ${ownerPid} (lock ${lockPath})`,
  };
}

/**
 * Takes the lock of `path` for this process and returns the function that releases it. A lock
 * whose owner is dead (a crash, a restart, a reused pid) is taken over; of several processes
 * taking over at once exactly one wins. A lock held by a live owner is refused with
 * `refuse(conflict)` (default: a {@link FileLockError}).
 */
export async function acquireFileLock(
  path: string,
  refuse: (conflict: LockConflict) => Error = (c) => new FileLockError(c),
  options: FileLockOptions = {},
): Promise<() => Promise<void>> {
  const settings = { refreshMs: options.refreshMs ?? DEFAULT_REFRESH_MS, staleMs: options.staleMs ?? DEFAULT_STALE_MS };
  const dir = `${path}.lock`;
  const oldOwner = await clearOldFormat(dir);
  if (oldOwner !== null) throw refuse(conflict(path, dir, oldOwner));
  await mkdir(dir, { recursive: true });

  const owner: LockOwner = { ...whoAmI(), token: randomUUID(), acquiredAt: new Date().toISOString() };
  const temp = join(dir, `.${owner.token}.tmp`);
  // Held from before the claim: another opener in this process that reads our file between the
  // link and the return must see a live owner, not "our pid with a token we do not hold".
  held.add(owner.token);
  let acquired = false;
  try {
    await writeFile(temp, `${JSON.stringify(owner)}\n`);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const top = (await generations(dir)).at(-1) ?? 0;
      if (top > 0) {
        const file = join(dir, String(top));
        const text = await readFile(file, 'utf8').catch((error: unknown) => (isMissing(error) ? null : Promise.reject(error)));
        if (text === null) continue; // superseded meanwhile: look again
        const current = parseOwner(text);
        // An unreadable file cannot have been written by a taker (files appear whole): treat it as dead.
        const state = current === null ? 'dead' : ownerState(current);
        if (state === 'alive') throw refuse(conflict(path, dir, current?.pid));
        if (state === 'unknown' && current !== null) {
          const seen = await watchHeartbeat(file, current.token, settings);
          if (seen === 'alive') throw refuse(conflict(path, dir, current.pid));
          if (seen === 'changed') continue;
        }
      }
      const mine = top + 1;
      const file = join(dir, String(mine));
      try {
        await link(temp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // another taker claimed it first
        throw error;
      }
      // A later generation means ours was claimed and cleaned up before: we are not the owner.
      if (((await generations(dir)).at(-1) ?? 0) > mine) {
        await rm(file, { force: true });
        continue;
      }
      for (const old of await generations(dir)) if (old < mine) await rm(join(dir, String(old)), { force: true });
      acquired = true;
      return holdLock(file, owner, settings.refreshMs);
    }
    throw refuse(conflict(path, dir));
  } finally {
    if (!acquired) held.delete(owner.token);
    await rm(temp, { force: true });
  }
}

/** Keeps the heartbeat of a held lock and returns its release (idempotent). */
function holdLock(file: string, owner: LockOwner, refreshMs: number): () => Promise<void> {
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, refreshMs);
  heartbeat.unref();
  let released: Promise<void> | undefined;
  return () => {
    released ??= (async () => {
      clearInterval(heartbeat);
      held.delete(owner.token);
      // Rewritten as released, never deleted: generations must only grow (see the module comment).
      const temp = `${file}.${owner.token}.released`;
      await writeFile(temp, `${JSON.stringify({ ...owner, releasedAt: new Date().toISOString() })}\n`);
      await rename(temp, file);
    })();
    return released;
  };
}

/**
 * The owner record of `path`'s lock as its last owner wrote it (`releasedAt` set once released),
 * or null when it was never taken. It does not say whether an unreleased owner still runs.
 */
export async function readLockOwner(path: string): Promise<LockOwner | null> {
  const dir = `${path}.lock`;
  const top = (await generations(dir)).at(-1);
  if (top === undefined) return null;
  return parseOwner(await readFile(join(dir, String(top)), 'utf8').catch(() => ''));
}
