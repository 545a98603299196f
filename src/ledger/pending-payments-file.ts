/**
 * Pending payments in an append-only file, fsync'ed before `add` resolves. It works with every
 * backend and, unlike a table, survives the database outage that usually causes a pending record
 * in the first place. Each line is one operation (`add`, `failure`, `resolve`); the state is their
 * fold. The file is a util/line-log.ts log: one owner at a time, checksummed lines, appends on
 * a fresh line, damaged lines kept aside in `<file>.damaged` (reported by reconcile and the
 * metrics until an operator moves it away), and compaction to the unresolved records on open.
 */
import { StorageError } from '../storage/contract/errors.js';
import { LineLog, readLineLog, type DamagedLine, type RecordKind } from '../util/line-log.js';
import { mergePending, type NewPendingPayment, type PendingPayment, type PendingPaymentStore } from './pending-payments.js';

export { damagedFileOf } from '../util/line-log.js';

type Line =
  | { op: 'add'; at: string; record: Omit<PendingPayment, 'createdAt' | 'resolvedAt'> & { createdAt: string } }
  | { op: 'failure'; at: string; facilitatorTxHash: string; error: string }
  | { op: 'resolve'; at: string; facilitatorTxHash: string };

function apply(records: Map<string, PendingPayment>, line: Line): void {
  if (line.op === 'add') {
    const r = line.record;
    records.set(r.facilitatorTxHash, { ...r, createdAt: new Date(r.createdAt), resolvedAt: null });
    return;
  }
  const record = records.get(line.facilitatorTxHash);
  if (record === undefined) return;
  if (line.op === 'failure') records.set(line.facilitatorTxHash, { ...record, error: line.error, attempts: record.attempts + 1 });
  else records.set(line.facilitatorTxHash, { ...record, resolvedAt: new Date(line.at) });
}

function addLine(record: PendingPayment, at: Date): Line {
  const { resolvedAt: _resolved, createdAt, ...rest } = record;
  return { op: 'add', at: at.toISOString(), record: { ...rest, createdAt: createdAt.toISOString() } };
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a parsed value is an operation this store wrote (a damaged but parsable line is not). */
function isLine(value: unknown): value is Line {
  if (!isObject(value) || !isText(value['at'])) return false;
  if (value['op'] === 'add') {
    const r = value['record'];
    return (
      isObject(r) &&
      isText(r['id']) &&
      isText(r['facilitatorTxHash']) &&
      isText(r['leaseId']) &&
      isObject(r['payload']) &&
      isText(r['error']) &&
      typeof r['attempts'] === 'number' &&
      isText(r['createdAt']) &&
      !Number.isNaN(Date.parse(r['createdAt']))
    );
  }
  if (value['op'] === 'failure') return isText(value['facilitatorTxHash']) && isText(value['error']);
  return value['op'] === 'resolve' && isText(value['facilitatorTxHash']) && !Number.isNaN(Date.parse(value['at']));
}

const PENDING_OPERATION: RecordKind<Line> = { name: 'pending payment operation', is: isLine };

/** Folds operations into records. */
function fold(lines: readonly Line[]): Map<string, PendingPayment> {
  const records = new Map<string, PendingPayment>();
  for (const line of lines) apply(records, line);
  return records;
}

/** What a pending payment file holds, read without its lock. */
export interface PendingFileReport {
  /** Unresolved records, oldest first. */
  pending: PendingPayment[];
  /** Lines kept in the side file and lines of the pending file that cannot be read. */
  damaged: DamagedLine[];
}

function unresolved(records: Map<string, PendingPayment>): PendingPayment[] {
  return [...records.values()].filter((r) => r.resolvedAt === null).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/**
 * The unresolved records and the damaged lines of a pending payment file, read without taking its
 * lock (so a CLI can report them while the service runs). Read-only: it neither compacts nor
 * writes. A reader may see an append in progress as a torn last line.
 */
export async function readPendingFile(path: string): Promise<PendingFileReport> {
  const { records, damaged } = await readLineLog(path, PENDING_OPERATION);
  return { pending: unresolved(fold(records)), damaged };
}

/** The file-backed {@link PendingPaymentStore}. Create it with {@link FilePendingPaymentStore.open}. */
export class FilePendingPaymentStore implements PendingPaymentStore {
  readonly kind = 'file';

  private constructor(
    readonly path: string,
    private readonly log: LineLog<Line>,
    private readonly records: Map<string, PendingPayment>,
  ) {}

  /** Lines the last open could not read and moved to the side file. */
  get setAsideAtOpen(): DamagedLine[] {
    return this.log.setAsideAtOpen;
  }

  /**
   * Opens (creating if needed) the file at `path` and loads it; lines it cannot read are moved to
   * the side file first, then the file is compacted to the unresolved records.
   */
  static async open(path: string): Promise<FilePendingPaymentStore> {
    const now = new Date();
    const { log, records } = await LineLog.open(path, {
      kind: PENDING_OPERATION,
      keep: (lines) => unresolved(fold(lines)).map((r) => addLine(r, now)),
      refuse: (c) => new StorageError('CONFLICT', `pending payment file ${path} is in use by another store (lock ${c.lockPath})`, { details: { path, ...c.details } }),
    });
    const state = fold(records);
    for (const [hash, record] of state) if (record.resolvedAt !== null) state.delete(hash);
    return new FilePendingPaymentStore(path, log, state);
  }

  async add(input: NewPendingPayment): Promise<PendingPayment> {
    const now = new Date();
    const record = mergePending(this.records.get(input.facilitatorTxHash), input, now);
    await this.log.append(addLine(record, now));
    this.records.set(record.facilitatorTxHash, record);
    return structuredClone(record);
  }

  async listUnresolved(): Promise<PendingPayment[]> {
    return unresolved(this.records).map((r) => structuredClone(r));
  }

  async recordFailure(facilitatorTxHash: string, error: string): Promise<void> {
    if (!this.records.has(facilitatorTxHash)) return;
    const line: Line = { op: 'failure', at: new Date().toISOString(), facilitatorTxHash, error };
    await this.log.append(line);
    apply(this.records, line);
  }

  async resolve(facilitatorTxHash: string): Promise<void> {
    if (this.records.get(facilitatorTxHash)?.resolvedAt !== null) return;
    const line: Line = { op: 'resolve', at: new Date().toISOString(), facilitatorTxHash };
    await this.log.append(line);
    apply(this.records, line);
  }

  listDamaged(): Promise<DamagedLine[]> {
    return this.log.listDamaged();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
