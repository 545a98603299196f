/**
 * Concurrent keyed reads sent as one statement. The reads asked for during one turn of the event
 * loop are answered by one query for all their keys when the turn ends (a single one by the
 * one-key statement). On a busy service each query costs the event loop a socket write that wakes
 * a server process, which on a small machine takes the writer's core (bench/http.ts profiles the
 * paid request: those writes were a fifth of its main thread's time); one query for ten keys costs
 * that once. Every read still starts after it was asked for, so it sees everything committed
 * before the call.
 */

interface Waiting<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (error: unknown) => void;
}

/** What a coalescer reads with. */
export interface CoalescedRead<K, V> {
  /** One key's answer (the statement a lone read uses). */
  one(key: K): Promise<V>;
  /** The answers of `keys`, in their order (keys may repeat). */
  many(keys: readonly K[]): Promise<V[]>;
  /** The most keys one statement carries (default 256). */
  maxKeys?: number;
}

/** Gathers the reads of one event-loop turn into one statement. */
export class ReadCoalescer<K, V> {
  private waiting: Waiting<K, V>[] = [];

  constructor(private readonly read: CoalescedRead<K, V>) {}

  /** The answer for `key`, read with the other keys asked for in this turn. */
  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (this.waiting.push({ key, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    this.waiting = [];
    const max = this.read.maxKeys ?? 256;
    for (let from = 0; from < waiting.length; from += max) {
      const chunk = waiting.slice(from, from + max);
      const answers = chunk.length === 1 ? this.read.one((chunk[0] as Waiting<K, V>).key).then((v) => [v]) : this.read.many(chunk.map((w) => w.key));
      answers
        .then((values) => {
          if (values.length !== chunk.length) throw new Error(`a coalesced read answered ${values.length} of ${chunk.length} keys`);
          chunk.forEach((w, i) => w.resolve(values[i] as V));
        })
        .catch((error: unknown) => chunk.forEach((w) => w.reject(error)));
    }
  }
}
