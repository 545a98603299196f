/**
 * The settlement journal in an fsync'ed JSON Lines file (see settlement-journal.ts): one line per
 * intent written and per state change. Opening folds the lines into entries and compacts the file
 * to what is still needed: unresolved entries, and resolved ones whose authorization could still
 * be resent (until it expires), so a used payment stays refused across restarts. Damaged lines
 * are kept aside and counted, never dropped.
 */
import { StorageError } from '../storage/contract/errors.js';
import { LineLog, countDamagedLines, readLineLog } from '../shared/line-log.js';
import {
  UNRESOLVED_STATES,
  applyUpdate,
  newEntry,
  type IntentUpdate,
  type NewSettlementIntent,
  type SettlementIntent,
  type SettlementJournal,
} from './settlement-journal.js';

type Stored = Omit<SettlementIntent, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };
type Line = { op: 'begin'; entry: Stored } | { op: 'update'; id: string; at: string; change: IntentUpdate };

function toStored(entry: SettlementIntent): Stored {
  return { ...entry, createdAt: entry.createdAt.toISOString(), updatedAt: entry.updatedAt.toISOString() };
}

function fold(lines: unknown[]): Map<string, SettlementIntent> {
  const entries = new Map<string, SettlementIntent>();
  for (const raw of lines) {
    const line = raw as Line;
    if (line.op === 'begin') {
      entries.set(line.entry.id, { ...line.entry, createdAt: new Date(line.entry.createdAt), updatedAt: new Date(line.entry.updatedAt) });
    } else if (line.op === 'update') {
      const entry = entries.get(line.id);
      if (entry !== undefined) entries.set(line.id, applyUpdate(entry, line.change, new Date(line.at)));
    }
  }
  return entries;
}

/** Whether an entry is still needed: unresolved, or resendable until its authorization expires. */
function stillNeeded(entry: SettlementIntent, now: Date): boolean {
  return UNRESOLVED_STATES.has(entry.state) || Date.parse(entry.expiresAt) > now.getTime();
}

/** The unresolved entries of a journal file, read without its lock (for reconcile while the service runs). */
export async function readJournalFile(path: string): Promise<{ unresolved: SettlementIntent[]; damaged: number }> {
  const { records } = await readLineLog(path);
  const unresolved = [...fold(records).values()].filter((e) => UNRESOLVED_STATES.has(e.state));
  return { unresolved, damaged: await countDamagedLines(path) };
}

/** The file-backed {@link SettlementJournal}. Create it with {@link FileSettlementJournal.open}. */
export class FileSettlementJournal implements SettlementJournal {
  readonly kind = 'file';

  private constructor(
    private readonly log: LineLog,
    private readonly entries: Map<string, SettlementIntent>,
    private readonly nonces: Map<string, string>,
    /** Lines kept aside in `<path>.damaged`, this open and before. */
    readonly damagedLines: number,
  ) {}

  /** Opens (creating if needed) the journal at `path`. */
  static async open(path: string): Promise<FileSettlementJournal> {
    let entries = new Map<string, SettlementIntent>();
    const now = new Date();
    const log = await LineLog.open(
      path,
      ({ records }) => {
        entries = new Map([...fold(records)].filter(([, e]) => stillNeeded(e, now)));
        return [...entries.values()].map((e): Line => ({ op: 'begin', entry: toStored(e) }));
      },
      (c) => new StorageError('CONFLICT', `settlement journal ${path} is in use by another process (lock file ${c.lockPath})`, { details: { path, ...c.details } }),
    );
    const nonces = new Map([...entries.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((e) => [e.nonce, e.id]));
    return new FileSettlementJournal(log, entries, nonces, await countDamagedLines(path));
  }

  async begin(input: NewSettlementIntent): Promise<SettlementIntent> {
    const entry = newEntry(input, new Date());
    await this.log.append({ op: 'begin', entry: toStored(entry) } satisfies Line);
    this.entries.set(entry.id, entry);
    this.nonces.set(entry.nonce, entry.id);
    return structuredClone(entry);
  }

  async update(id: string, change: IntentUpdate): Promise<SettlementIntent> {
    const entry = this.entries.get(id);
    if (entry === undefined) throw new Error(`no settlement intent ${id}`);
    const at = new Date();
    await this.log.append({ op: 'update', id, at: at.toISOString(), change } satisfies Line);
    const next = applyUpdate(entry, change, at);
    this.entries.set(id, next);
    return structuredClone(next);
  }

  byNonce(nonce: string): SettlementIntent | undefined {
    const id = this.nonces.get(nonce.toLowerCase());
    const entry = id === undefined ? undefined : this.entries.get(id);
    return entry === undefined ? undefined : structuredClone(entry);
  }

  unresolved(): SettlementIntent[] {
    return [...this.entries.values()]
      .filter((e) => UNRESOLVED_STATES.has(e.state))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((e) => structuredClone(e));
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
