/**
 * Paying clients for the fault tests and the soak: each stream pays one lease through the HTTP
 * service again and again (quote, sign, POST /access) the way an x402 client would. A refusal
 * the service marks as retryable (503/504 with Retry-After) is waited out and the same signed
 * payment resent until it is answered, so every payment a stream starts ends in a 200, unless the
 * test stops waiting or the service never answers (it died: that payment is left to its journal). Everything observed is counted, and every 200's settlement hash kept, so a
 * test can compare what the clients were told with what the ledger holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { paymentHeader } from '../../src/api/x402/client.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';

/** What the streams saw. */
export interface StreamTally {
  /** Requests sent (quotes and payments, first tries and resends). */
  requests: number;
  /** Payments answered 200, by the `ledger` field of the answer (recorded, replayed, pending). */
  paid: Record<string, number>;
  /** Settlement hash of every 200, with how many 200s named it. */
  hashes: Map<string, number>;
  /** Retryable refusals (status → count); each one was resent. */
  retryable: Record<number, number>;
  /** Whether every retryable refusal carried Retry-After. */
  retryAfterMissing: number;
  /** Requests that got no HTTP answer (connection refused or reset). */
  unanswered: number;
  /** Payments whose request got no answer (not resent: the service resolves them itself). */
  paymentsUnanswered: number;
  /** Answers that are neither 200 nor retryable: each is a failure of the service. */
  unexpected: { status: number; body: string }[];
  /** Payments started but never answered 200 when the streams were stopped. */
  abandoned: number;
  /**
   * Payments refused as retryable for so long that their signed authorization was about to
   * expire; nothing was taken for them (a refusal comes before settlement), so a new one was
   * signed instead of resending.
   */
  resigned: number;
  /** Completion time and latency of every answered payment request (ms since start). */
  latencies: { at: number; ms: number; status: number }[];
}

/** Options of {@link PayingStreams}. */
export interface PayingStreamOptions {
  /** The service's base URL (it may change after a restart: see {@link PayingStreams.retarget}). */
  base: string;
  /** The lease each stream pays (one stream per lease). */
  leases: readonly string[];
  /** Payment mode (default `second`). */
  mode?: string;
  /** Milliseconds between the starts of a stream's payments; 0 pays back to back (default 0). */
  everyMs?: number;
  /** Keep latencies (the soak needs them; the fault tests do not). */
  keepLatencies?: boolean;
  /** How long a stream keeps resending one payment after {@link PayingStreams.stop} (default 60 s). */
  drainMs?: number;
  /**
   * Reuse a quote this long before asking again (default 0: every payment is quoted). The price
   * of an interval does not change within a lease's term, so a client may sign several payments
   * from one quote; the soak does, to spend the machine on payments rather than quotes.
   */
  quoteReuseMs?: number;
  /** Give up waiting for one answer after this long; it then counts as unanswered (default 60 s). */
  requestTimeoutMs?: number;
}

type Attempt = { status: number; retryAfter: string | null; body: string } | { status: 0 };

/** Streams of payments, one per lease. */
export class PayingStreams {
  readonly tally: StreamTally = { requests: 0, paid: {}, hashes: new Map(), retryable: {}, retryAfterMissing: 0, unanswered: 0, paymentsUnanswered: 0, unexpected: [], abandoned: 0, resigned: 0, latencies: [] };
  /** Streams with a payment request on the wire now. */
  inFlight = 0;
  private base: string;
  private stopping = false;
  private drainDeadline = Infinity;
  private readonly started = Date.now();
  private readonly runs: Promise<void>[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly options: PayingStreamOptions) {
    this.base = options.base;
  }

  /** Starts every stream. */
  start(): this {
    for (const lease of this.options.leases) this.runs.push(this.stream(lease));
    return this;
  }

  /** Points the streams at another address (a restarted service). */
  retarget(base: string): void {
    this.base = base;
  }

  /** Number of 200s so far. */
  paidCount(): number {
    return Object.values(this.tally.paid).reduce((a, b) => a + b, 0);
  }

  /**
   * Resolves after the next payment answered 200 (from any stream); rejects with what the streams
   * saw when none comes within `timeoutMs`.
   */
  nextPaid(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no payment answered 200 within ${timeoutMs} ms: ${this.describe()}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The tally as short text (for failure messages). */
  describe(): string {
    const { hashes, latencies, unexpected, ...counts } = this.tally;
    return JSON.stringify({ ...counts, paidHashes: hashes.size, latencies: latencies.length, unexpected: unexpected.slice(0, 3) });
  }

  /**
   * Lets each stream finish the payment it has started (resending it while the answer is
   * retryable, for at most `drainMs`), then resolves with the tally.
   */
  async stop(): Promise<StreamTally> {
    this.stopping = true;
    this.drainDeadline = Date.now() + (this.options.drainMs ?? 60_000);
    await Promise.all(this.runs);
    return this.tally;
  }

  private async send(method: string, path: string, headers: Record<string, string> = {}): Promise<Attempt> {
    this.tally.requests += 1;
    try {
      const response = await fetch(`${this.base}${path}`, { method, headers, signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000) });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() };
    } catch {
      this.tally.unanswered += 1;
      return { status: 0 };
    }
  }

  /** Waits out a retryable answer; false when it is not one (then it is counted as unexpected). */
  private async retryable(answer: Attempt): Promise<boolean> {
    if (!('body' in answer)) {
      await sleep(100);
      return true;
    }
    if (answer.status !== 503 && answer.status !== 504) {
      this.tally.unexpected.push({ status: answer.status, body: answer.body.slice(0, 500) });
      return false;
    }
    this.tally.retryable[answer.status] = (this.tally.retryable[answer.status] ?? 0) + 1;
    if (answer.retryAfter === null) this.tally.retryAfterMissing += 1;
    // Retry-After is in seconds; a shorter wait keeps the tests short without hammering.
    await sleep(Math.min(Number(answer.retryAfter ?? 1) * 1000, 250));
    return true;
  }

  private async quote(lease: string, mode: string): Promise<PaymentRequirements | null> {
    for (;;) {
      const answer = await this.send('GET', `/api/leases/${lease}/x402/requirements?mode=${mode}`);
      if (answer.status === 200) return (JSON.parse(answer.body) as { accepts: PaymentRequirements[] }).accepts[0] as PaymentRequirements;
      if (this.stopping || !(await this.retryable(answer))) return null;
    }
  }

  private async stream(lease: string): Promise<void> {
    const mode = this.options.mode ?? 'second';
    const every = this.options.everyMs ?? 0;
    // Spread the streams over one period, so a paced load is even rather than a burst a second.
    if (every > 0) await sleep(Math.floor(Math.random() * every));
    let next = Date.now();
    let quoted: { requirements: PaymentRequirements; at: number } | undefined;
    while (!this.stopping) {
      if (quoted === undefined || Date.now() - quoted.at >= (this.options.quoteReuseMs ?? 0)) {
        const fresh = await this.quote(lease, mode);
        if (fresh === null) return;
        quoted = { requirements: fresh, at: Date.now() };
      }
      const requirements = quoted.requirements;
      const header = paymentHeader(requirements);
      // Resend only while the authorization has time left: the service refuses an expired one.
      const expiresAt = Date.now() + (requirements.maxTimeoutSeconds - 15) * 1000;
      for (;;) {
        if (Date.now() > expiresAt) {
          this.tally.resigned += 1;
          break;
        }
        if (Date.now() > this.drainDeadline) {
          this.tally.abandoned += 1;
          return;
        }
        const sentAt = Date.now();
        this.inFlight += 1;
        const answer = await this.send('POST', `/api/leases/${lease}/access?mode=${mode}`, { 'x-payment': header });
        this.inFlight -= 1;
        if (this.options.keepLatencies && answer.status !== 0) this.tally.latencies.push({ at: Date.now() - this.started, ms: Date.now() - sentAt, status: answer.status });
        if (!('body' in answer)) {
          // No answer (the service died): whether it settled is the service's to resolve from its
          // journal, so this payment is not resent; the stream starts a new one.
          this.tally.paymentsUnanswered += 1;
          await sleep(100);
          break;
        }
        if (answer.status === 200) {
          this.paid(JSON.parse(answer.body) as { ledger: string; payment?: { facilitatorTxHash: string }; facilitatorTxHash?: string });
          break;
        }
        if (!(await this.retryable(answer))) return;
      }
      if (every > 0) {
        next += every;
        const wait = next - Date.now();
        // A stream that fell behind starts its next payment now instead of bunching up.
        if (wait > 0) await sleep(wait);
        else next = Date.now();
      }
    }
  }

  private paid(body: { ledger: string; payment?: { facilitatorTxHash: string }; facilitatorTxHash?: string }): void {
    this.tally.paid[body.ledger] = (this.tally.paid[body.ledger] ?? 0) + 1;
    const hash = body.payment?.facilitatorTxHash ?? body.facilitatorTxHash;
    if (hash === undefined) {
      this.tally.unexpected.push({ status: 200, body: JSON.stringify(body).slice(0, 500) });
      return;
    }
    this.tally.hashes.set(hash, (this.tally.hashes.get(hash) ?? 0) + 1);
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** The p-th percentile (0-100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
