/**
 * Making writes durable: a write is on disk only once its file is fsync'ed, and a new or renamed
 * file's name only once its directory is. Every module that promises durability uses these.
 */
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
  const out = await open(tempPath, 'w');
  try {
    await out.writeFile(data);
    await out.sync();
  } finally {
    await out.close();
  }
  await rename(tempPath, path);
  await fsyncDirectory(dirname(path));
}

/** Appends `text` to an open file and waits until the data is on disk (fdatasync). */
export async function appendDurably(handle: FileHandle, text: string): Promise<void> {
  await handle.appendFile(text);
  await handle.datasync();
}

/**
 * Appends one newline-terminated `line` to a file opened for appending and reading (`'a+'`), on a
 * line of its own: when the file does not end with a newline (an earlier write was cut short by a
 * crash or a full disk), a newline is written first, so the torn fragment stays a line by itself
 * and never swallows this record. Resolves once the data is on disk.
 */
export async function appendLineDurably(handle: FileHandle, line: string): Promise<void> {
  const { size } = await handle.stat();
  let torn = false;
  if (size > 0) {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    torn = last[0] !== 0x0a;
  }
  await appendDurably(handle, torn ? `\n${line}` : line);
}
