/**
 * Whole-table export and import for the in-memory backend (see records.ts). Imports are checked
 * completely before the first write, so a refused call leaves the store as it was.
 */
import { StorageError } from '../../contract/errors.js';
import type { TableName, TableRecords, TableSummary } from '../../contract/transfer.js';
import { batchRecord, paymentRecord, type MemoryLedger } from './ledger.js';
import { copyAsset, copyEvent, copyLease, eventKey, type MemoryTables } from './tables.js';
import { compareStrings } from './sorted-list.js';

type AnyRecord = TableRecords[TableName];

function allRecords(tables: MemoryTables, ledger: MemoryLedger, table: TableName): { id: string; copy: () => AnyRecord }[] {
  switch (table) {
    case 'assets':
      return [...tables.assets.values()].map((r) => ({ id: r.id, copy: () => copyAsset(r) }));
    case 'leases':
      return [...tables.leases.values()].map((r) => ({ id: r.id, copy: () => copyLease(r) }));
    case 'events':
      return [...tables.eventsById.values()].map((r) => ({ id: r.id, copy: () => copyEvent(r) }));
    case 'x402_payments':
      return [...ledger.paymentsByHash.values()].map((r) => ({ id: r.id, copy: () => paymentRecord(r) }));
    case 'x402_batches':
      return [...ledger.batchesById.values()].map((r) => ({ id: r.id, copy: () => batchRecord(r) }));
  }
}

/** Yields a table's records ordered by id, `pageSize` at a time. */
export function* exportMemoryRecords<T extends TableName>(
  tables: MemoryTables,
  ledger: MemoryLedger,
  table: T,
  pageSize: number,
): Generator<TableRecords[T][]> {
  const rows = allRecords(tables, ledger, table).sort((a, b) => compareStrings(a.id, b.id));
  for (let i = 0; i < rows.length; i += pageSize) {
    yield rows.slice(i, i + pageSize).map((r) => r.copy() as TableRecords[T]);
  }
}

/** Count and money total of a table. */
export function summarizeMemoryTable(tables: MemoryTables, ledger: MemoryLedger, table: TableName): TableSummary {
  switch (table) {
    case 'assets':
      return { count: tables.assets.size, amountSum: 0n };
    case 'leases':
      return { count: tables.leases.size, amountSum: 0n };
    case 'events':
      return { count: tables.events.size, amountSum: 0n };
    case 'x402_payments': {
      let sum = 0n;
      for (const row of ledger.paymentsByHash.values()) sum += row.amount;
      return { count: ledger.paymentsByHash.size, amountSum: sum };
    }
    case 'x402_batches': {
      let sum = 0n;
      for (const row of ledger.batchesById.values()) sum += row.total;
      return { count: ledger.batchesById.size, amountSum: sum };
    }
  }
}

function duplicate(what: string): StorageError {
  return new StorageError('DUPLICATE', `${what} already exists with another id`, { details: { key: what } });
}

function missingLease(leaseId: string): StorageError {
  return new StorageError('REFERENCE_NOT_FOUND', `lease ${leaseId} does not exist`, { details: { leaseId } });
}

/**
 * Imports stored records as they are; ids already present are skipped. Returns how many were new.
 */
export function importMemoryRecords<T extends TableName>(
  tables: MemoryTables,
  ledger: MemoryLedger,
  table: T,
  records: readonly TableRecords[T][],
): number {
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  const fresh: AnyRecord[] = [];
  // Checks only: nothing is written until every record has passed.
  for (const record of records) {
    if (seenIds.has(record.id) || idExists(tables, ledger, table, record)) continue;
    seenIds.add(record.id);
    const key = naturalKey(table, record);
    if (seenKeys.has(key) || naturalKeyExists(tables, ledger, table, record)) throw duplicate(key);
    seenKeys.add(key);
    checkReferences(tables, table, record);
    fresh.push(record);
  }
  for (const record of fresh) write(tables, ledger, table, record);
  return fresh.length;
}

function idExists(tables: MemoryTables, ledger: MemoryLedger, table: TableName, record: AnyRecord): boolean {
  const id = record.id;
  switch (table) {
    case 'assets':
      return tables.assetIds.has(id);
    case 'leases':
      return tables.leaseIds.has(id);
    case 'events':
      return tables.eventsById.has(id);
    case 'x402_payments':
      // The same payment is found under its hash; an imported one also by its id.
      return ledger.paymentsByHash.get((record as TableRecords['x402_payments']).facilitatorTxHash)?.id === id || ledger.importedPaymentIds.has(id);
    case 'x402_batches':
      return ledger.batchesById.has(id);
  }
}

function naturalKey(table: TableName, record: AnyRecord): string {
  const r = record as unknown as Record<string, string | number>;
  switch (table) {
    case 'assets':
      return `asset ${r['assetId']}`;
    case 'leases':
      return `lease ${r['leaseId']}`;
    case 'events':
      return `event ${r['transactionHash']}:${r['logIndex']}`;
    case 'x402_payments':
      return `payment ${r['facilitatorTxHash']}`;
    case 'x402_batches':
      return `batch ${r['leaseId']} ${r['hourBucket']}`;
  }
}

function naturalKeyExists(tables: MemoryTables, ledger: MemoryLedger, table: TableName, record: AnyRecord): boolean {
  switch (table) {
    case 'assets':
      return tables.assets.has((record as TableRecords['assets']).assetId);
    case 'leases':
      return tables.leases.has((record as TableRecords['leases']).leaseId);
    case 'events': {
      const e = record as TableRecords['events'];
      return tables.events.has(eventKey(e.transactionHash, e.logIndex));
    }
    case 'x402_payments':
      return ledger.paymentsByHash.has((record as TableRecords['x402_payments']).facilitatorTxHash);
    case 'x402_batches': {
      const b = record as TableRecords['x402_batches'];
      return ledger.batchFor(b.leaseId, b.hourBucket) !== undefined;
    }
  }
}

function checkReferences(tables: MemoryTables, table: TableName, record: AnyRecord): void {
  if (table === 'leases') {
    const assetId = (record as TableRecords['leases']).assetId;
    if (!tables.assets.has(assetId)) {
      throw new StorageError('REFERENCE_NOT_FOUND', `asset ${assetId} does not exist`, { details: { assetId } });
    }
  }
  if (table === 'x402_payments' || table === 'x402_batches') {
    const leaseId = (record as TableRecords['x402_payments']).leaseId;
    if (!tables.leases.has(leaseId)) throw missingLease(leaseId);
  }
}

function write(tables: MemoryTables, ledger: MemoryLedger, table: TableName, record: AnyRecord): void {
  switch (table) {
    case 'assets':
      return tables.insertAsset(copyAsset(record as TableRecords['assets']));
    case 'leases':
      return tables.insertLease(copyLease(record as TableRecords['leases']));
    case 'events':
      return tables.insertEvent(copyEvent(record as TableRecords['events']));
    case 'x402_payments': {
      const p = record as TableRecords['x402_payments'];
      ledger.importedPaymentIds.add(p.id);
      ledger.insertPayment({
        id: p.id,
        leaseId: p.leaseId,
        mode: p.mode,
        amount: p.amountMinorUnits,
        payer: ledger.intern(p.payer),
        ts: p.paymentTimestamp.getTime(),
        hash: p.facilitatorTxHash,
        bucket: ledger.intern(p.bucketSlot),
        createdAt: p.createdAt.getTime(),
        late: p.late === true,
        carriedTo: p.carriedToBatchId,
      });
      return;
    }
    case 'x402_batches': {
      const b = record as TableRecords['x402_batches'];
      ledger.insertBatch({
        id: b.id,
        leaseId: b.leaseId,
        hourBucket: ledger.intern(b.hourBucket),
        total: b.totalAmountMinorUnits,
        count: b.paymentCount,
        revenueRoundId: b.revenueRoundId,
        settlementTxHash: b.settlementTxHash,
        startedAt: b.startedAt.getTime(),
        closedAt: b.closedAt.getTime(),
        createdAt: b.createdAt.getTime(),
      });
      return;
    }
  }
}
