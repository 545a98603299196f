/**
 * The lines of a line log (line-log.ts): their format (`<crc32 hex> <json>`, or plain JSON of the
 * earlier unframed format), reading a log back, whole or one record at a time, and the side file
 * its damaged lines are moved to.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { appendLineDurably, fsyncDirectory, openForDurableAppends } from './fsync.js';

/** A line that could not be read, as it was found. */
export interface DamagedLine {
  /** The file the line was read from. */
  file: string;
  /** Its line number there (1-based). */
  line: number;
  /** Why it could not be used. */
  reason: string;
  /** The line as found, for an operator to recover by hand. */
  text: string;
  /** When it was moved to the side file; null while it is still in the file it was read from. */
  setAsideAt: string | null;
}

/** What a log holds: the records it accepted, and what it could not read. */
export interface LogContents<R> {
  records: R[];
  damaged: DamagedLine[];
}

/** How a log knows its records: a check of a parsed value, and the kind's name for messages. */
export interface RecordKind<R> {
  /** e.g. "pending payment operation". */
  name: string;
  is(value: unknown): value is R;
}

const checksum = (json: string) => crc32(json).toString(16).padStart(8, '0');
const FRAMED = /^([0-9a-f]{8}) (.*)$/s;
const isText = (value: unknown): value is string => typeof value === 'string';

/** A record as a line of a log, from {@link encodeLine}. */
export type EncodedLine = string & { readonly encodedLine: unique symbol };

/**
 * A record as a line of a log: checksum, space, JSON, newline. An owner that keeps the lines of
 * records that do not change gives them to compactions as they are (line-log.ts, `CompactionState`).
 */
export function encodeLine(record: unknown): EncodedLine {
  const json = JSON.stringify(record);
  return `${checksum(json)} ${json}\n` as EncodedLine;
}

/** A line's record, or why it cannot be used. */
function decode<R>(raw: string, kind: RecordKind<R>): { record: R } | { problem: string } {
  const framed = FRAMED.exec(raw);
  let json: string;
  if (framed?.[1] !== undefined && framed[2] !== undefined) {
    if (checksum(framed[2]) !== framed[1]) return { problem: 'checksum mismatch' };
    json = framed[2];
  } else if (raw.startsWith('{')) {
    json = raw; // the earlier unframed format
  } else {
    return { problem: 'not a framed record' };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problem: 'not JSON' };
  }
  return kind.is(value) ? { record: value } : { problem: `not a ${kind.name}` };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** The non-blank lines of `text` with their line numbers, and whether the last one lacks its newline. */
function linesOf(text: string): Array<{ raw: string; number: number; last: boolean }> {
  const parts = text.split('\n');
  const unterminated = !text.endsWith('\n');
  return parts.flatMap((raw, i) => (raw.trim() === '' ? [] : [{ raw, number: i + 1, last: unterminated && i === parts.length - 1 }]));
}

/** The log's records and the lines it cannot use (a missing log is empty). */
export async function readLines<R>(path: string, kind: RecordKind<R>): Promise<LogContents<R>> {
  return parseLines(await readText(path), path, kind);
}

/** The records of a log's text (read from `path`) and the lines it cannot use. */
function parseLines<R>(text: string, path: string, kind: RecordKind<R>): LogContents<R> {
  const records: R[] = [];
  const damaged: DamagedLine[] = [];
  for (const { raw, number, last } of linesOf(text)) {
    const decoded = decode(raw, kind);
    if ('record' in decoded) records.push(decoded.record);
    else {
      // A last line without its newline is a write cut short (by a crash or a full disk).
      const reason = last ? `torn last line (${decoded.problem})` : decoded.problem;
      damaged.push({ file: path, line: number, reason, text: raw, setAsideAt: null });
    }
  }
  return { records, damaged };
}

/** The side file where the damaged lines of the log at `path` are kept. */
export function damagedFileOf(path: string): string {
  return `${path}.damaged`;
}

/** The lines kept in the side file; an entry that cannot be read is reported as it is, never skipped. */
async function readSetAside(path: string): Promise<DamagedLine[]> {
  const side = damagedFileOf(path);
  return linesOf(await readText(side)).map(({ raw, number }) => {
    try {
      const entry = JSON.parse(raw) as Partial<DamagedLine>;
      if (isText(entry.file) && typeof entry.line === 'number' && isText(entry.reason) && isText(entry.text) && isText(entry.setAsideAt)) {
        return { file: entry.file, line: entry.line, reason: entry.reason, text: entry.text, setAsideAt: entry.setAsideAt };
      }
    } catch {
      // reported below as it is
    }
    return { file: side, line: number, reason: 'unreadable entry of the damaged-lines file', text: raw, setAsideAt: null };
  });
}

/** Appends damaged lines to the side file and makes them durable. */
export async function setAside(path: string, damaged: DamagedLine[]): Promise<DamagedLine[]> {
  const at = new Date().toISOString();
  const kept = damaged.map((d) => ({ ...d, setAsideAt: at }));
  const handle = await openForDurableAppends(damagedFileOf(path));
  try {
    await appendLineDurably(handle, kept.map((d) => `${JSON.stringify(d)}\n`).join(''));
  } finally {
    await handle.close();
  }
  await fsyncDirectory(dirname(path)); // the side file may be new
  return kept;
}

/**
 * A log's records and every damaged line (the side file's and its own), read without its lock
 * (so a CLI can report them while the owner runs). Read-only. A reader may see an append in
 * progress as a torn last line.
 */
export async function readLineLog<R>(path: string, kind: RecordKind<R>): Promise<LogContents<R>> {
  const { records, damaged } = await readLines(path, kind);
  return { records, damaged: [...(await readSetAside(path)), ...damaged] };
}

/** How far a {@link streamRecords} read got. */
export interface StreamProgress {
  /** Records yielded. */
  read: number;
  /** Whether every line of the part was read. */
  finished: boolean;
}

/**
 * The records of the first `length` bytes of the log at `path`, one at a time, read line by line
 * (a compaction runs while the service does: holding the whole text, its lines and every record
 * at once cost it hundreds of MB); lines it cannot use go to `damaged`, numbered as
 * {@link parseLines} numbers them.
 */
export async function* streamRecords<R>(path: string, length: number, kind: RecordKind<R>, damaged: DamagedLine[], progress: StreamProgress): AsyncGenerator<R> {
  if (length > 0) {
    const unterminated = (await readBytes(path, length - 1, 1))[0] !== 0x0a;
    const lines = createInterface({ input: createReadStream(path, { start: 0, end: length - 1, encoding: 'utf8' }), crlfDelay: Infinity });
    let number = 0;
    let last: DamagedLine | undefined;
    for await (const raw of lines) {
      number += 1;
      last = undefined;
      if (raw.trim() === '') continue;
      const decoded = decode(raw, kind);
      if ('record' in decoded) {
        progress.read += 1;
        yield decoded.record;
      } else damaged.push((last = { file: path, line: number, reason: decoded.problem, text: raw, setAsideAt: null }));
    }
    // A last line without its newline is a write cut short (by a crash or a full disk).
    if (unterminated && last !== undefined) last.reason = `torn last line (${last.reason})`;
  }
  progress.finished = true;
}

/** `length` bytes of the file at `path` from offset `from` (fewer if it is shorter). */
export async function readBytes(path: string, from: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, from);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
