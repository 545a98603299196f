/**
 * EIP-712 signer recovery on worker threads. Recovering the signer of an EIP-3009 authorization
 * (keccak of the typed data, then secp256k1 public-key recovery) is most of a paid request's CPU
 * in the service (bench/http.ts prints the breakdown). Done on the main thread it stalls every
 * other request meanwhile; here it runs on a small pool of threads, so the event loop keeps
 * serving HTTP, the database and the journal while another core recovers signatures. The answer
 * is the same as in-thread recovery (signer-recovery.ts): the main thread encodes the struct and
 * the domain (`authorizationDigestParts`), the thread hashes them as `digestOf` does and recovers
 * with libsecp256k1 where it loads, viem where it does not.
 *
 * Requests made in one turn of the event loop go to a thread as one message, and its answers come
 * back as one: under load a message per request cost the main thread more (a structured clone
 * and a wake-up of the other thread each) than the batch's single one.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Hex, TypedDataDomain } from 'viem';
import { authorizationDigestParts } from './authorization.js';
import { keccakModulePath } from './keccak.js';
import { nativeRecoveryModule } from './signer-recovery.js';
import type { Authorization } from './types.js';

/**
 * The worker's code, run by `eval`, so it needs no file of its own beside the compiled or the
 * TypeScript sources. Only dynamic `import()`, so it runs as CommonJS or as a module (a process
 * started with `--input-type=module` passes that to its workers). It loads viem, js-sha3 (and the
 * native binding, when the main thread found one) from the URLs the main thread resolved and
 * answers each batch `[{ id, separator, struct, signature }]` with `[{ id, signer }]` (null when
 * the signature does not recover). The digest is authorization.ts's digestOf, the hash keccak.ts's
 * and the native branch signer-recovery.ts's recoverWithNative, none of which can be imported here.
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const viemModule = await import(workerData.viem);
  const viem = viemModule.recoverAddress ? viemModule : viemModule.default;
  const { keccak256 } = (await import(workerData.keccak)).default;
  const secp = workerData.native ? (await import(workerData.native)).default : null;
  const prefix = new Uint8Array([0x19, 0x01]);
  const keccakBytes = (data) => new Uint8Array(keccak256.arrayBuffer(data));
  const recover = async ({ separator, struct, signature }) => {
    const digest = keccakBytes(viem.concat([prefix, separator, keccakBytes(struct)]));
    if (secp === null) return viem.recoverAddress({ hash: digest, signature });
    const bytes = viem.hexToBytes(signature);
    if (bytes.length !== 65) throw new Error('invalid signature length');
    const v = bytes[64];
    const recid = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : -1;
    if (recid === -1) throw new Error('Invalid yParityOrV value');
    const key = secp.ecdsaRecover(bytes.subarray(0, 64), recid, digest, false);
    return viem.getAddress('0x' + keccak256(key.subarray(1)).slice(-40));
  };
  parentPort.on('message', async (batch) => {
    const answers = [];
    for (const request of batch) {
      let signer = null;
      try {
        signer = await recover(request);
      } catch {
        signer = null;
      }
      answers.push({ id: request.id, signer });
    }
    parentPort.postMessage(answers);
  });
})();`;

interface Waiter {
  resolve: (signer: string | null) => void;
  reject: (error: Error) => void;
}

/** One recovery as the thread receives it. */
interface Request {
  id: number;
  separator: Uint8Array;
  struct: Uint8Array;
  signature: Hex;
}

interface Slot {
  worker: Worker;
  waiting: Map<number, Waiter>;
  /** Requests of this turn of the event loop, sent together when it ends. */
  batch: Request[];
}

/** Default pool size: one thread per core beyond the main thread's, at most two. */
export function defaultSignatureWorkers(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 1));
}

/**
 * A pool of worker threads recovering authorization signers. Threads start on first use, keep the
 * process alive only while they owe an answer, and a thread that dies is replaced (its calls reject, so the caller can
 * recover in-thread instead).
 */
export class SignatureWorkerPool {
  private readonly slots: (Slot | undefined)[];
  private next = 0;
  private ids = 0;
  private readonly viemUrl = pathToFileURL(createRequire(import.meta.url).resolve('viem')).href;
  private readonly nativeUrl = fileUrl(nativeRecoveryModule());
  private readonly keccakUrl = pathToFileURL(keccakModulePath()).href;

  /** @param size threads in the pool (at least one). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a signature worker pool needs at least one thread, got ${size}`);
    this.slots = new Array<Slot | undefined>(size).fill(undefined);
  }

  /**
   * The signer of `authorization` under `domain`, or null when `signature` does not recover.
   * Rejects, without starting a thread, when a field does not fit its type (as viem's
   * `hashTypedData` throws), and when the thread dies before it answers.
   */
  recover(authorization: Authorization, domain: TypedDataDomain, signature: Hex): Promise<string | null> {
    let parts;
    try {
      parts = authorizationDigestParts(authorization, domain);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const slot = this.slot();
    const id = ++this.ids;
    return new Promise<string | null>((resolve, reject) => {
      // Held open while it owes an answer (a one-shot CLI awaiting it must not exit first); idle, it never holds the process.
      if (slot.waiting.size === 0) slot.worker.ref();
      slot.waiting.set(id, { resolve, reject });
      if (slot.batch.push({ id, ...parts, signature }) === 1) setImmediate(() => this.send(slot));
    });
  }

  /** Sends the slot's batch to its thread (nothing when the thread died meanwhile: its calls were rejected). */
  private send(slot: Slot): void {
    const batch = slot.batch;
    slot.batch = [];
    if (batch.length > 0 && batch.some((request) => slot.waiting.has(request.id))) slot.worker.postMessage(batch);
  }

  /** Stops every thread; calls still waiting reject. */
  async close(): Promise<void> {
    const slots = [...this.slots];
    this.slots.fill(undefined);
    await Promise.all(slots.flatMap((slot) => (slot === undefined ? [] : [slot.worker.terminate()])));
  }

  /** The least-loaded thread, started if needed (round robin among equals). */
  private slot(): Slot {
    let best = -1;
    for (let k = 0; k < this.slots.length; k++) {
      const i = (this.next + k) % this.slots.length;
      const slot = this.slots[i];
      if (slot === undefined) {
        best = i;
        break;
      }
      if (best === -1 || slot.waiting.size < (this.slots[best] as Slot).waiting.size) best = i;
    }
    this.next = (best + 1) % this.slots.length;
    return (this.slots[best] ??= this.start(best));
  }

  private start(index: number): Slot {
    // eval'd source: one thread per slot, unref'd while idle so it never holds the process open.
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { viem: this.viemUrl, keccak: this.keccakUrl, native: this.nativeUrl } });
    worker.unref();
    const slot: Slot = { worker, waiting: new Map(), batch: [] };
    worker.on('message', (answers: { id: number; signer: string | null }[]) => {
      for (const { id, signer } of answers) {
        const waiter = slot.waiting.get(id);
        slot.waiting.delete(id);
        waiter?.resolve(signer);
      }
      if (slot.waiting.size === 0) worker.unref();
    });
    const fail = (error: Error) => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const waiter of slot.waiting.values()) waiter.reject(error);
      slot.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`signature worker exited with code ${code}`)));
    return slot;
  }
}

function fileUrl(path: string | undefined): string | undefined {
  return path === undefined ? undefined : pathToFileURL(path).href;
}

const shared = new Map<number, SignatureWorkerPool>();

/** The process-wide pool of `size` threads (facilitators share it instead of each starting threads). */
export function sharedSignatureWorkerPool(size: number): SignatureWorkerPool {
  let pool = shared.get(size);
  if (pool === undefined) {
    pool = new SignatureWorkerPool(size);
    shared.set(size, pool);
  }
  return pool;
}
