/**
 * The write-ahead journal of settlements. Before the service asks a facilitator to settle a
 * payment (money moves), it writes an intent here, durably: the authorization, the quote and what
 * the payment is for. The settle outcome and the ledger commit resolve it. Whatever happens in
 * between (a crash, a kill, a timeout), the intent survives and is resolved later: settled ones
 * are recorded, unknown ones are asked of the facilitator where it can answer, and the rest are
 * reported by reconcile as "settlement unknown" with everything needed to finish by hand.
 *
 * The journal is also the memory of which authorizations have been used: one payment buys its
 * interval once (see {@link grantFor}).
 *
 * Implementations: {@link MemorySettlementJournal} (the in-memory backend, tests) and the
 * fsync'ed file in settlement-journal-file.ts.
 */
import { randomUUID } from 'node:crypto';
import { DueQueue } from '../util/due-queue.js';
import type { DamagedLine } from '../util/line-log.js';
import type { PaymentMode } from '../storage/contract/database.js';

/**
 * Where a settlement stands. `intent`: written, settle not answered yet (or the process died);
 * `unknown`: settle gave no usable answer; `settled`: the facilitator settled it, not yet in the
 * ledger; `recorded`: in the ledger; `pending`: settled and handed to the pending-payments store;
 * `not_settled`: the facilitator refused it, no money moved.
 */
export type SettlementState = 'intent' | 'unknown' | 'settled' | 'recorded' | 'pending' | 'not_settled';

/** The states that still need resolving. */
export const UNRESOLVED_STATES: ReadonlySet<SettlementState> = new Set(['intent', 'unknown', 'settled']);

/** Settlements whose money may have moved without a ledger row: they make a ledger inconsistent. */
export function moneyOutsideLedger(intents: readonly SettlementIntent[]): SettlementIntent[] {
  return intents.filter((i) => i.state === 'settled' || i.state === 'unknown');
}

/** What an intent keeps: enough to settle, look up, record or finish by hand. */
export interface NewSettlementIntent {
  /** The authorization's nonce (lowercase 0x + 64 hex): one per payment, the journal's key. */
  nonce: string;
  leaseId: string;
  mode: PaymentMode;
  /** Minor units, canonical decimal digits. */
  amount: string;
  /** The payer the authorization claims (`from`); the recorded payer is the one settlement confirms. */
  payer: string;
  /** The instant the payment was priced at: its ledger timestamp, so its hour is the priced one. */
  pricedAt: string;
  /** The end of the interval the payment buys; a resent payment is granted again until then. */
  intervalEnd: string;
  /** When the authorization expires (its `validBefore`); the journal remembers it was used until then. */
  expiresAt: string;
  /** The decoded payment (version-neutral) and the requirements it was checked against. */
  payment: unknown;
  requirements: unknown;
}

/** A journal entry. */
export interface SettlementIntent extends NewSettlementIntent {
  id: string;
  state: SettlementState;
  createdAt: Date;
  updatedAt: Date;
  /** The settlement transaction hash, once known. */
  transaction?: string;
  /** The payer the facilitator confirmed. */
  settledPayer?: string;
  network?: string;
  /** The ledger payment id, once recorded. */
  paymentId?: string;
  /** Why it is unknown, not settled, or failed to record. */
  reason?: string;
}

/** A state change, as journals apply and store it. */
export type IntentUpdate =
  | { state: 'settled'; transaction: string; settledPayer?: string | undefined; network?: string | undefined }
  | { state: 'recorded'; paymentId: string }
  | { state: 'pending' }
  | { state: 'unknown'; reason: string }
  | { state: 'not_settled'; reason: string };

/** The durable journal. */
export interface SettlementJournal {
  /** "memory" or "file", for status reports. */
  readonly kind: string;
  /** Writes an intent; resolves once it is durable. */
  begin(input: NewSettlementIntent): Promise<SettlementIntent>;
  /** Moves an intent on; resolves once the change is durable. */
  update(id: string, change: IntentUpdate): Promise<SettlementIntent>;
  /** The latest entry for an authorization nonce. */
  byNonce(nonce: string): SettlementIntent | undefined;
  /** Entries that still need resolving, oldest first. */
  unresolved(): SettlementIntent[];
  /** Lines the journal could not read back, kept aside (none in memory). */
  listDamaged(): Promise<DamagedLine[]>;
  /** Releases the file; idempotent. */
  close(): Promise<void>;
}

/** Applies a change to an entry (shared by the journals). */
export function applyUpdate(entry: SettlementIntent, change: IntentUpdate, at: Date): SettlementIntent {
  const next: SettlementIntent = { ...entry, updatedAt: at };
  // Fields a change leaves undefined are dropped, so "absent" has one meaning in stored entries.
  // (A loop: entries/filter/fromEntries was 2 % of a paid request's main thread in the http bench.)
  for (const key in change) {
    const value = change[key as keyof IntentUpdate];
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (change.state === 'settled' || change.state === 'recorded' || change.state === 'pending') delete next.reason;
  return next;
}

/** A new entry for an intent (shared by the journals). */
export function newEntry(input: NewSettlementIntent, at: Date): SettlementIntent {
  return { ...input, nonce: input.nonce.toLowerCase(), id: randomUUID(), state: 'intent', createdAt: at, updatedAt: at };
}

/** What a resent payment gets, given the journal's entry for its nonce. */
export type ResendVerdict =
  | { kind: 'new' }
  | { kind: 'grant'; entry: SettlementIntent }
  | { kind: 'used'; entry: SettlementIntent }
  | { kind: 'in_progress'; entry: SettlementIntent };

/**
 * One payment buys its interval once: a resent authorization for the same lease and mode is
 * granted again while the interval it paid for lasts, and refused afterwards (or for anything
 * else). One whose settlement is still being resolved is neither granted nor settled again; one
 * the facilitator refused moved no money, so it may be tried again.
 */
export function grantFor(entry: SettlementIntent | undefined, leaseId: string, mode: PaymentMode, at: Date): ResendVerdict {
  if (entry === undefined || entry.state === 'not_settled') return { kind: 'new' };
  if (entry.state === 'intent' || entry.state === 'unknown') return { kind: 'in_progress', entry };
  const sameUse = entry.leaseId === leaseId && entry.mode === mode;
  return sameUse && at.getTime() < Date.parse(entry.intervalEnd) ? { kind: 'grant', entry } : { kind: 'used', entry };
}

/** A journal record: an intent written, or a change of one. */
export type JournalLine = { op: 'begin'; entry: SettlementIntent } | { op: 'update'; id: string; at: Date; change: IntentUpdate };

/**
 * How long after its authorization expired a resolved intent is still kept in memory. After
 * expiry nobody can use the authorization again: the payment check refuses it by this server's
 * clock before the journal is asked (client skew is already bounded there), so the margin only
 * covers this clock being stepped back a little. It is short because it sets the journal's size:
 * payments/s times (authorization validity + margin) resolved entries stay resident (the soak
 * measured a 5-minute margin as ~700 MiB at 240 payments/s).
 */
export const FORGET_RESOLVED_AFTER_EXPIRY_MS = 30_000;

/**
 * A resolved entry whose paid interval is over, without its signed payment and requirements
 * (most of its size): only a grant of the very same payment reads them, which `grantFor` does
 * only until `intervalEnd`. Any other entry is returned as it is.
 */
export function slimmedAfterInterval(entry: SettlementIntent, now: number): SettlementIntent {
  if (UNRESOLVED_STATES.has(entry.state) || entry.payment === null || Date.parse(entry.intervalEnd) >= now) return entry;
  return { ...entry, payment: null, requirements: null };
}

/**
 * The copy begin and update return, on every paid request: the entry's own fields, sharing the
 * `payment` and `requirements` documents, which are typed `unknown` (nobody changes them without
 * a cast) and never changed in place by the journal (an update replaces the entry). A deep copy
 * here was about 6 % of a paid request's main-thread CPU in the http bench's profile.
 */
function ownCopy(entry: SettlementIntent): SettlementIntent {
  return { ...entry, createdAt: new Date(entry.createdAt), updatedAt: new Date(entry.updatedAt) };
}

/** When a resolved entry may be forgotten: its authorization's expiry plus the margin (NaN when its expiry does not parse). */
function forgetAt(entry: SettlementIntent): number {
  return Date.parse(entry.expiresAt) + FORGET_RESOLVED_AFTER_EXPIRY_MS;
}

/** Every this many intents begun, the journal forgets what it no longer needs. */
const SWEEP_EVERY_BEGINS = 256;

/**
 * The journal in memory: for the in-memory backend, where nothing survives a restart anyway, and
 * the state the file journal keeps (it makes each line durable first, see `persist`).
 */
export class MemorySettlementJournal implements SettlementJournal {
  readonly kind: string = 'memory';
  private readonly entries = new Map<string, SettlementIntent>();
  private readonly nonces = new Map<string, string>();
  private beginsSinceSweep = 0;
  /**
   * When each entry is due to be slimmed (its interval's end) and forgotten (its expiry plus
   * {@link FORGET_RESOLVED_AFTER_EXPIRY_MS}): a sweep takes out only what is due instead of
   * looking at every entry (at 1,000 payments/s and 10-minute authorizations that was 600,000
   * entries every 256 payments, 1-4 % of a paid request's main-thread time in the http bench).
   */
  private readonly due = new DueQueue<{ id: string; forget: boolean }>();
  /** Entries that came due while still unresolved: looked at again by every sweep. */
  private readonly dueWhileUnresolved = new Set<string>();

  /** @param lines records to start from (the file journal's, as read). */
  constructor(lines: Iterable<JournalLine> = []) {
    for (const line of lines) this.apply(line);
  }

  async begin(input: NewSettlementIntent): Promise<SettlementIntent> {
    const line: JournalLine = { op: 'begin', entry: newEntry(input, new Date()) };
    await this.persist(line);
    // Without this a long-running service would hold every payment it ever settled (the soak
    // showed RSS growing with the payment count); the file is compacted the same way on open.
    if (++this.beginsSinceSweep >= SWEEP_EVERY_BEGINS) this.forgetExpired(Date.now());
    return ownCopy(line.entry);
  }

  /**
   * Drops resolved intents whose authorization expired more than
   * {@link FORGET_RESOLVED_AFTER_EXPIRY_MS} before `now`; unresolved ones are always kept.
   * A resolved intent whose paid interval is over keeps only what refusing a resend needs: the
   * signed payment and its requirements (most of an entry's memory) are only read to grant the
   * very same payment again, which `grantFor` does only until `intervalEnd`. Returns how many
   * were dropped.
   */
  forgetExpired(now: number): number {
    this.beginsSinceSweep = 0;
    let dropped = 0;
    for (const id of this.dueWhileUnresolved) {
      const entry = this.entries.get(id);
      if (entry !== undefined && UNRESOLVED_STATES.has(entry.state)) continue;
      this.dueWhileUnresolved.delete(id);
      // Resolved since: forgotten if its time has come, else slimmed (its forget time is queued).
      if (entry !== undefined) dropped += this.retire(id, entry, forgetAt(entry) < now, now);
    }
    for (const { id, forget } of this.due.takeDueBefore(now)) {
      const entry = this.entries.get(id);
      if (entry === undefined) continue;
      if (UNRESOLVED_STATES.has(entry.state)) this.dueWhileUnresolved.add(id);
      else dropped += this.retire(id, entry, forget, now);
    }
    return dropped;
  }

  /** Forgets a resolved entry (1) or slims it once its interval is over (0). */
  private retire(id: string, entry: SettlementIntent, forget: boolean, now: number): number {
    if (forget) {
      this.entries.delete(id);
      if (this.nonces.get(entry.nonce) === id) this.nonces.delete(entry.nonce);
      return 1;
    }
    const slim = slimmedAfterInterval(entry, now);
    if (slim !== entry) this.entries.set(id, slim);
    return 0;
  }

  async update(id: string, change: IntentUpdate): Promise<SettlementIntent> {
    if (!this.entries.has(id)) throw new Error(`no settlement intent ${id}`);
    const line: JournalLine = { op: 'update', id, at: new Date(), change };
    await this.persist(line);
    return ownCopy(this.entries.get(id) as SettlementIntent);
  }

  byNonce(nonce: string): SettlementIntent | undefined {
    const id = this.nonces.get(nonce.toLowerCase());
    const entry = id === undefined ? undefined : this.entries.get(id);
    return entry === undefined ? undefined : structuredClone(entry);
  }

  unresolved(): SettlementIntent[] {
    return this.all()
      .filter((e) => UNRESOLVED_STATES.has(e.state))
      .map((e) => structuredClone(e));
  }

  async listDamaged(): Promise<DamagedLine[]> {
    return [];
  }

  async close(): Promise<void> {}

  /** Applies a record as read back from a journal (a begin or an update), e.g. when folding a file. */
  replay(line: JournalLine): void {
    this.apply(line);
  }

  /**
   * Every entry in the order its begin took effect (the journal's own objects, which it never
   * changes in place: an update replaces its entry), without {@link all}'s sort.
   */
  protected held(): SettlementIntent[] {
    return [...this.entries.values()];
  }

  /** Every entry, oldest first (the journal's own objects: callers must not change them). */
  all(): SettlementIntent[] {
    return [...this.entries.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** Makes a line durable, then lets it take effect; in memory there is nothing to make durable. */
  protected async persist(line: JournalLine): Promise<void> {
    this.apply(line);
  }

  /** Lets a line take effect in memory (once it is durable, for the file journal). */
  protected apply(line: JournalLine): void {
    if (line.op === 'begin') {
      const { entry } = line;
      this.entries.set(entry.id, entry);
      this.nonces.set(entry.nonce, entry.id);
      // A date that does not parse is never "before now" in the checks: such an entry is slimmed
      // at the first sweep (slimmedAfterInterval) and never forgotten, as the checks always did.
      const intervalEnd = Date.parse(entry.intervalEnd);
      this.due.push(Number.isNaN(intervalEnd) ? 0 : intervalEnd, { id: entry.id, forget: false });
      const forgetTime = forgetAt(entry);
      if (!Number.isNaN(forgetTime)) this.due.push(forgetTime, { id: entry.id, forget: true });
      return;
    }
    const entry = this.entries.get(line.id);
    if (entry !== undefined) this.entries.set(line.id, applyUpdate(entry, line.change, line.at));
  }
}
