/**
 * What recording one settled payment costs the machine in CPU, the ledger write every paid
 * request makes (issue 14's "not reachable" needs its bound): the project's own grouped
 * `recordPayment`, `callers` callers at once as the HTTP bench's connections are, with nothing
 * else running. Counted: this process and the database's backends (a floor: the WAL writer,
 * the checkpointer and the kernel's flushes are left out).
 */
import { CpuMeter } from './cpu.js';
import { hash } from './fixtures.js';
import { backendPids, type SqlBench } from './sql.js';

/** The outcome of {@link ledgerWriteCost}. */
export interface LedgerWriteCost {
  /** CPU of this process and the database's backends per recorded payment. */
  cpuMsPerPayment: number;
  payments: number;
  perSecond: number;
  nodeCpuPct: number;
  pgCpuPct: number;
}

/**
 * `callers` callers recording new payments (lease ids from `leaseIds`, the current hour) back to
 * back for `warmupSeconds` untimed, then for `seconds` under a CPU meter. Every backend of the
 * bench's database counts, so nothing else may use it meanwhile. Throws if any call fails: a
 * refused payment costs less than a recorded one and would flatter the bound.
 */
export async function ledgerWriteCost(bench: SqlBench, leaseIds: readonly string[], callers: number, seconds: number, warmupSeconds: number): Promise<LedgerWriteCost> {
  let issued = 0;
  const run = async (runSeconds: number): Promise<number> => {
    let recorded = 0;
    const end = performance.now() + runSeconds * 1000;
    const caller = async () => {
      while (performance.now() < end) {
        const i = issued++;
        await bench.db.recordPayment({
          leaseId: leaseIds[i % leaseIds.length] as string,
          amount: '277777',
          timestamp: new Date().toISOString(),
          mode: 'second',
          facilitatorTxHash: hash('c5', i),
        });
        recorded += 1;
      }
    };
    await Promise.all(Array.from({ length: callers }, caller));
    return recorded;
  };
  await run(warmupSeconds);
  const meter = new CpuMeter(await backendPids(bench));
  const started = performance.now();
  const payments = await run(seconds);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = meter.stop();
  const cpuSeconds = ((cpu.nodeCpuPct + cpu.pgCpuPct) / 100) * elapsed;
  return { cpuMsPerPayment: (cpuSeconds / payments) * 1000, payments, perSecond: payments / elapsed, nodeCpuPct: cpu.nodeCpuPct, pgCpuPct: cpu.pgCpuPct };
}
