/**
 * Making writes durable: a write is on disk only once its file is fsync'ed, and a new or renamed
 * file's name only once its directory is. Every module that promises durability uses these.
 */
import { constants } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

async function syncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a file's content (and metadata) to disk. */
export function fsyncFile(path: string): Promise<void> {
  return syncPath(path, 'r+');
}

/** Makes a directory entry (a new or renamed file) durable. */
export function fsyncDirectory(dir: string): Promise<void> {
  return syncPath(dir, 'r');
}

/**
 * Replaces the file at `path` with `data` so that a crash leaves either the old or the new
 * content: written to `tempPath`, fsync'ed, renamed over `path`, then the directory fsync'ed.
 */
export async function replaceFileDurably(path: string, data: string, tempPath = `${path}.tmp`): Promise<void> {
  await (await startFileReplacement(path, [data], tempPath)).finish('');
}

/** A replacement of a file begun by {@link startFileReplacement}. */
export interface FileReplacement {
  /** Appends `rest` to the new content, fsyncs it, renames it over the file and fsyncs the directory. */
  finish(rest: string | Buffer): Promise<void>;
  /** Gives the replacement up: the file stays as it is. */
  abandon(): Promise<void>;
}

/** How much of a replacement's content is written between two flushes (see {@link startFileReplacement}). */
const SYNC_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * {@link replaceFileDurably} in two steps, for a file still in use meanwhile: the bulk of the new
 * content, `chunks` in order, is written to `tempPath` and fsync'ed now, while the old file stays
 * in use, and `finish` adds what was appended to the old file meanwhile and puts the new one in
 * its place. A crash at any point leaves the old content or the new one. Each chunk is turned into
 * bytes as it is written, so a large content never stalls the caller's thread in one piece.
 */
export async function startFileReplacement(path: string, chunks: readonly string[], tempPath = `${path}.tmp`): Promise<FileReplacement> {
  const out = await open(tempPath, 'w');
  let isOpen = true;
  const close = async () => {
    if (!isOpen) return;
    isOpen = false;
    await out.close();
  };
  try {
    // writeFile on a handle writes from its position: the chunks follow one another. The data is
    // flushed every few MiB rather than once at the end: one flush of tens of MiB held the disk
    // for long enough that the owner's own durable appends (and its database's commits) waited.
    let unsynced = 0;
    for (const chunk of chunks) {
      await out.writeFile(chunk);
      unsynced += Buffer.byteLength(chunk);
      if (unsynced >= SYNC_EVERY_BYTES) {
        await out.datasync();
        unsynced = 0;
      }
    }
    await out.sync();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    finish: async (rest) => {
      try {
        if (rest.length > 0) {
          await out.writeFile(rest);
          await out.sync();
        }
      } finally {
        await close();
      }
      await rename(tempPath, path);
      await fsyncDirectory(dirname(path));
    },
    abandon: close,
  };
}

/**
 * Read and append, created if missing, and O_DSYNC: each write returns only once its data (and the
 * size that makes it readable) is on disk, as a write followed by fdatasync would. One system call
 * instead of two is one trip through libuv's thread pool, and one event-loop turn to hear back,
 * per group of appends: on a busy service each turn is milliseconds (docs/performance.md).
 */
const DURABLE_APPENDS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC;

/** Opens `path` (created if missing) so that every write through the handle is on disk when it resolves. */
export function openForDurableAppends(path: string): Promise<FileHandle> {
  return open(path, DURABLE_APPENDS);
}

/**
 * Appends newline-terminated `lines` to a file opened by {@link openForDurableAppends}, on a line
 * of their own, and resolves once they are on disk. When the file may end with a fragment (an
 * earlier write cut short by a crash or a full disk; pass false only right after an append that
 * succeeded), its last byte is read first, and if it is not a newline one is written before the
 * lines, so the fragment stays a line by itself and never swallows a record.
 */
export async function appendLineDurably(handle: FileHandle, lines: string, mayEndTorn = true): Promise<void> {
  await handle.appendFile(mayEndTorn && (await endsWithFragment(handle)) ? `\n${lines}` : lines);
}

/** Whether the file's last byte is something other than a newline. */
async function endsWithFragment(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
