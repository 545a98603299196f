/**
 * Threads that turn record lines into COPY rows for a bulk load (copy-encoding.ts). Parsing,
 * checking and encoding a million records is most of a migration's CPU in Node, and on the main
 * thread it kept the server waiting between chunks (docs/operations.md, section 4); here it runs
 * beside the main thread, which only reads the file and sends rows. The answer is the same as
 * encoding on the main thread: the same function runs in both places, and while no thread is
 * ready (starting, or its module does not load) the main thread encodes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StorageError, type StorageErrorCode } from '../../contract/errors.js';
import type { TableLinesChunk } from '../../contract/transfer.js';
import { encodeChunk, type EncodedChunk } from './copy-encoding.js';

/** What the main thread sends a thread. */
export interface EncoderRequest {
  id: number;
  chunk: TableLinesChunk;
}

/** A thread's answer to one {@link EncoderRequest}. */
export type EncoderReply =
  | { id: number; encoded: EncodedChunk }
  | { id: number; error: { message: string; code?: StorageErrorCode; field?: string; details?: Record<string, unknown> } };

interface Pending {
  resolve: (encoded: EncodedChunk) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  ready: boolean;
  /** Set once the thread died: it takes no more chunks, and those it held fail with its error. */
  dead: boolean;
  /** Resolves when the thread is ready or dead. */
  settled: Promise<void>;
  settle: () => void;
}

/**
 * How many encoder threads a load starts: one core is left to the main thread (reading, sending)
 * and the server, at most 3 threads.
 */
export function encoderThreads(): number {
  return Math.max(1, Math.min(3, availableParallelism() - 1));
}

/**
 * A pool of encoder threads, started by {@link start} or on the first chunk; {@link close} ends
 * them. Until a thread is ready (loading its modules takes a few hundred milliseconds), chunks are
 * encoded on this thread, which would otherwise only wait.
 */
export class CopyEncoders {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private closed = false;
  /** How many chunks were encoded on a thread, and how many on this one (no thread could start). */
  readonly counts = { threads: 0, here: 0 };

  /**
   * @param size how many threads to start
   * @param startThread starts one thread (the encoder thread's module; tests pass others)
   */
  constructor(
    private readonly size = encoderThreads(),
    private readonly startThread: () => Worker = startWorker,
  ) {}

  /** Starts the threads (once), so that they load while the caller prepares. */
  start(): void {
    if (this.threads.length === 0 && !this.closed) for (let i = 0; i < this.size; i++) this.threads.push(this.launch());
  }

  /** Resolves when every thread started is ready or dead. */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.settled));
  }

  /**
   * `chunk` encoded on a thread (on this one when no thread is ready or none runs); rejects as
   * encodeChunk throws.
   */
  encode(chunk: TableLinesChunk): Promise<EncodedChunk> {
    if (this.closed) return Promise.reject(new Error('the encoder threads are closed'));
    this.start();
    const live = this.threads.filter((t) => !t.dead && t.ready);
    if (live.length === 0) return this.inline(chunk);
    // The least busy thread: chunks of one table cost about the same.
    const thread = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    // The lines on a buffer of their own, handed over: a view is sent with all of the buffer it
    // is on (here, the whole read the lines came from).
    const lines = new Uint8Array(chunk.lines.byteLength);
    lines.set(chunk.lines);
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, chunk: { ...chunk, lines } } satisfies EncoderRequest, [lines.buffer]);
    });
  }

  /** Ends the threads; chunks still pending are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => this.stop(t, new Error('the encoder threads were closed'))));
  }

  private launch(): Thread {
    let settle = () => undefined as void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const thread: Thread = { worker: this.startThread(), pending: new Map(), ready: false, dead: false, settled, settle };
    // A load that fails must not leave its process waiting on a thread.
    thread.worker.unref();
    thread.worker.on('message', (message: EncoderReply | { ready: true }) => {
      if ('ready' in message) {
        thread.ready = true;
        thread.settle();
        return;
      }
      const waiter = thread.pending.get(message.id);
      if (waiter === undefined) return;
      thread.pending.delete(message.id);
      if ('encoded' in message) {
        this.counts.threads += 1;
        waiter.resolve(message.encoded);
      }
      else waiter.reject(rebuildError(message.error));
    });
    thread.worker.on('error', (error) => void this.stop(thread, error));
    thread.worker.on('exit', () => void this.stop(thread, new Error('an encoder thread exited')));
    return thread;
  }

  // Only a ready thread is given chunks (one that cannot load its module never is: they are
  // encoded here). One that fails mid-way fails its chunks with its error.
  private async stop(thread: Thread, error: Error): Promise<void> {
    if (thread.dead) return;
    thread.dead = true;
    thread.settle();
    const pending = [...thread.pending.values()];
    thread.pending.clear();
    for (const waiter of pending) waiter.reject(error);
    await thread.worker.terminate();
  }

  private inline(chunk: TableLinesChunk): Promise<EncodedChunk> {
    this.counts.here += 1;
    try {
      return Promise.resolve(encodeChunk(chunk));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function rebuildError(error: Extract<EncoderReply, { error: unknown }>['error']): Error {
  if (error.code === undefined) return new Error(error.message);
  return new StorageError(error.code, error.message, { ...(error.field === undefined ? {} : { field: error.field }), ...(error.details === undefined ? {} : { details: error.details }) });
}

// Compiled, the thread is the .js file beside this one. Run from the TypeScript sources (tests,
// benches under tsx), a worker does not inherit the loader that runs them, so the thread
// registers tsx's (its ES module API: the CommonJS one registers a path that does not exist)
// before importing its .ts file.
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./copy-encoder-thread.js', here));
  const entry = new URL('./copy-encoder-thread.ts', here).href;
  return new Worker(`(async () => { (await import(${JSON.stringify(tsxEsmApi(here))})).register(); await import(${JSON.stringify(entry)}); })();`, { eval: true });
}

function tsxEsmApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']?.import.default ?? '')).href;
}
