/**
 * EIP-712 signer recovery on worker threads. Recovering the signer of an EIP-3009 authorization
 * (keccak of the typed data, then secp256k1 public-key recovery) is most of a paid request's CPU
 * in the service (bench/http.ts prints the breakdown). Done on the main thread it stalls every
 * other request meanwhile; here it runs on a small pool of threads, so the event loop keeps
 * serving HTTP, the database and the journal while another core recovers signatures. The answer
 * is the same as in-thread recovery (signer-recovery.ts): viem hashes the same typed data, and
 * libsecp256k1 recovers the key where it loads, viem where it does not.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Hex, TypedDataDomain } from 'viem';
import { authorizationTypedData } from './authorization.js';
import { nativeRecoveryModule } from './signer-recovery.js';
import type { Authorization } from './types.js';

/**
 * The worker's code, run by `eval`, so it needs no file of its own beside the compiled or the
 * TypeScript sources. Only dynamic `import()`, so it runs as CommonJS or as a module (a process
 * started with `--input-type=module` passes that to its workers). It loads viem (and the native
 * binding, when the main thread found one) from the URLs the main thread resolved and answers each
 * `{ id, typedData, signature }` with `{ id, signer }` (null when the signature does not recover).
 * The native branch is signer-recovery.ts's recoverWithNative, which cannot be imported here.
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const viemModule = await import(workerData.viem);
  const viem = viemModule.recoverTypedDataAddress ? viemModule : viemModule.default;
  const secp = workerData.native ? (await import(workerData.native)).default : null;
  const recover = async (typedData, signature) => {
    if (secp === null) return viem.recoverTypedDataAddress({ ...typedData, signature });
    const bytes = viem.hexToBytes(signature);
    if (bytes.length !== 65) throw new Error('invalid signature length');
    const v = bytes[64];
    const recid = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : -1;
    if (recid === -1) throw new Error('Invalid yParityOrV value');
    const hash = viem.hexToBytes(viem.hashTypedData(typedData));
    const key = secp.ecdsaRecover(bytes.subarray(0, 64), recid, hash, false);
    return viem.getAddress('0x' + viem.keccak256(key.subarray(1)).slice(-40));
  };
  parentPort.on('message', async ({ id, typedData, signature }) => {
    let signer = null;
    try {
      signer = await recover(typedData, signature);
    } catch {
      signer = null;
    }
    parentPort.postMessage({ id, signer });
  });
})();`;

interface Waiter {
  resolve: (signer: string | null) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  waiting: Map<number, Waiter>;
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

  /** @param size threads in the pool (at least one). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a signature worker pool needs at least one thread, got ${size}`);
    this.slots = new Array<Slot | undefined>(size).fill(undefined);
  }

  /** The signer of `authorization` under `domain`, or null when `signature` does not recover. */
  recover(authorization: Authorization, domain: TypedDataDomain, signature: Hex): Promise<string | null> {
    const slot = this.slot();
    const id = ++this.ids;
    // Typed data holds bigints, which structured clone carries as they are.
    const typedData = authorizationTypedData(authorization, domain);
    return new Promise<string | null>((resolve, reject) => {
      // Held open while it owes an answer (a one-shot CLI awaiting it must not exit first); idle, it never holds the process.
      if (slot.waiting.size === 0) slot.worker.ref();
      slot.waiting.set(id, { resolve, reject });
      slot.worker.postMessage({ id, typedData, signature });
    });
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
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { viem: this.viemUrl, native: this.nativeUrl } });
    worker.unref();
    const slot: Slot = { worker, waiting: new Map() };
    worker.on('message', ({ id, signer }: { id: number; signer: string | null }) => {
      const waiter = slot.waiting.get(id);
      slot.waiting.delete(id);
      if (slot.waiting.size === 0) worker.unref();
      waiter?.resolve(signer);
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
