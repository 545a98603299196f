/**
 * A durable, append-only log of JSON lines owned by one process: the storage under the journals
 * that must outlive a crash or a database outage. Each append is fsync'ed before it resolves and
 * appends run one at a time, so records never interleave. Nothing is ever silently dropped: on
 * open, a line that does not parse (a write torn by a crash, or damage) is moved to
 * `<path>.damaged` with the reason, counted, and left there for an operator; the log itself is
 * then rewritten with only what its owner keeps (compaction), so a torn tail can never glue onto
 * the next record.
 */
import { appendFile, mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { acquireFileLock } from './file-lock.js';
import { appendDurably, fsyncFile, replaceFileDurably } from './fsync.js';

/** What opening a log found. */
export interface LogContents {
  /** Every line that parsed, in order. */
  records: unknown[];
  /** Lines that did not parse, now kept in `<path>.damaged`. */
  damaged: number;
}

/** Reads a log's lines without taking its lock (for a report while its owner runs); writes nothing. */
export async function readLineLog(path: string): Promise<{ records: unknown[]; damaged: string[] }> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const records: unknown[] = [];
  const damaged: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      damaged.push(line);
    }
  }
  return { records, damaged };
}

/** The number of lines kept aside in `<path>.damaged` (0 when there is none). */
export async function countDamagedLines(path: string): Promise<number> {
  const text = await readFile(`${path}.damaged`, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.split('\n').filter((l) => l.trim() !== '').length;
}

/** An open log. Create it with {@link LineLog.open}. */
export class LineLog {
  private handle: FileHandle | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly unlock: () => Promise<void>,
  ) {}

  /**
   * Takes the log's lock (`refuse` builds the error when another live process holds it), reads
   * it, keeps damaged lines aside, and hands the parsed records to `keep`, whose result becomes
   * the log's new content.
   */
  static async open(
    path: string,
    keep: (contents: LogContents) => unknown[],
    refuse?: Parameters<typeof acquireFileLock>[1],
  ): Promise<LineLog> {
    await mkdir(dirname(path), { recursive: true });
    const unlock = await acquireFileLock(path, refuse);
    try {
      const { records, damaged } = await readLineLog(path);
      if (damaged.length > 0) {
        const stamp = new Date().toISOString();
        await appendFile(`${path}.damaged`, damaged.map((line) => `${JSON.stringify({ keptAt: stamp, line })}\n`).join(''));
        await fsyncFile(`${path}.damaged`);
      }
      const log = new LineLog(path, unlock);
      const kept = keep({ records, damaged: damaged.length });
      await replaceFileDurably(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''), `${path}.compact`);
      log.handle = await open(path, 'a');
      return log;
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  /** Appends one record and resolves once it is on disk. */
  append(record: unknown): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.handle === undefined) throw new Error(`log ${this.path} is closed`);
      await appendDurably(this.handle, `${JSON.stringify(record)}\n`);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Waits for pending appends, closes the file and releases the lock; idempotent. */
  async close(): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) return;
    this.handle = undefined;
    await this.tail;
    await handle.close();
    await this.unlock();
  }
}
