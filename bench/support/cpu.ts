/**
 * Where CPU time goes during a benchmark (Linux /proc): this Node process, the PostgreSQL
 * backends serving it, and everything else on the machine. Other people's work on a shared
 * machine shows up as `otherCpuPct`, so a noisy figure can be recognised as such. Also how one
 * process's main thread spends its time: on a core, waiting for one, or asleep.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { info } from './report.js';

const TICKS_PER_SECOND = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux x86-64

/** CPU seconds (user + system) used so far by process `pid`, 0 when it is gone or unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Nanoseconds a thread has spent on a core and runnable waiting for one (Linux schedstat). */
function schedStat(pid: number): { runNs: number; waitNs: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait) ? undefined : { runNs: run, waitNs: wait };
  } catch {
    return undefined;
  }
}

/** How a thread spent a stretch of wall time, as shares of it (they add up to 1). */
export interface ThreadTime {
  /** Running on a core. */
  onCpu: number;
  /** Runnable, waiting for a core (the other processes' and threads' turn). */
  waitingForCpu: number;
  /** Neither: blocked, waiting for I/O or a timer (an event loop with nothing to do). */
  asleep: number;
  /** Its CPU time over the stretch, ms. */
  cpuMs: number;
}

/**
 * Measures how a process's main thread (the thread whose id is the process id: Node's event
 * loop) spends the time from construction to {@link stop}. An event loop's utilization counts
 * the time it waits for a core as busy; the scheduler's counters tell the two apart.
 */
export class MainThreadMeter {
  private readonly started = performance.now();
  private readonly before: { runNs: number; waitNs: number } | undefined;

  constructor(private readonly pid: number) {
    this.before = schedStat(pid);
  }

  /** The shares since construction, or undefined without Linux's schedstat. */
  stop(): ThreadTime | undefined {
    const after = schedStat(this.pid);
    const wallNs = (performance.now() - this.started) * 1e6;
    if (this.before === undefined || after === undefined || wallNs <= 0) return undefined;
    const onCpu = (after.runNs - this.before.runNs) / wallNs;
    const waitingForCpu = (after.waitNs - this.before.waitNs) / wallNs;
    return { onCpu, waitingForCpu, asleep: Math.max(0, 1 - onCpu - waitingForCpu), cpuMs: (after.runNs - this.before.runNs) / 1e6 };
  }
}

/** Busy CPU seconds of the whole machine so far (all cores), or NaN without /proc. */
function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** CPU use over an interval, in % of one core (200% = both cores of a 2-core machine). */
export interface CpuUse {
  nodeCpuPct: number;
  pgCpuPct: number;
  otherCpuPct: number;
  cores: number;
}

/** Measures CPU use from construction to {@link stop}. */
export class CpuMeter {
  private readonly started = performance.now();
  private readonly node = process.cpuUsage();
  private readonly machine = machineBusySeconds();
  private readonly pg: number;

  /** @param pgPids PostgreSQL backend processes serving this benchmark (same machine). */
  constructor(private readonly pgPids: readonly number[] = []) {
    this.pg = this.pgSeconds();
  }

  private pgSeconds(): number {
    return this.pgPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  }

  /** CPU use since construction. */
  stop(): CpuUse {
    const seconds = (performance.now() - this.started) / 1000;
    const used = process.cpuUsage(this.node);
    const node = (used.user + used.system) / 1e6;
    const pg = this.pgSeconds() - this.pg;
    const machine = machineBusySeconds() - this.machine;
    const pct = (v: number) => Math.round((v / seconds) * 100);
    return { nodeCpuPct: pct(node), pgCpuPct: pct(pg), otherCpuPct: Math.max(0, pct(machine - node - pg)), cores: cpus().length };
  }
}

/**
 * Waits (at most `maxWaitMs`) until the rest of the machine uses less than `maxOtherPct` % of
 * one core over a second, so a measurement does not start in the middle of someone else's burst.
 * Returns the last measured share.
 */
export async function waitForQuiet(maxOtherPct = 30, maxWaitMs = 30_000): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let warned = false;
  for (;;) {
    const meter = new CpuMeter();
    await sleep(1000);
    const other = meter.stop().otherCpuPct;
    if (Number.isNaN(other) || other < maxOtherPct || Date.now() >= deadline) return other;
    if (!warned) info(`waiting for other processes to quiet down (using ${other}% of a core)`);
    warned = true;
  }
}

/** The outcome of {@link quietly}. */
export interface QuietRun<T> {
  result: T;
  cpu: CpuUse;
  /** Runs made; more than one when other processes were busy during the first. */
  attempts: number;
}

/**
 * Runs a measurement on a shared machine: waits for a quiet moment, runs it, and when other
 * processes still used more than `maxOtherPct` % of a core meanwhile, runs it again (up to
 * `attempts` times), keeping the least disturbed run. `pgPids()` gives the PostgreSQL backends
 * that count as the benchmark's own.
 */
export async function quietly<T>(
  run: () => Promise<T>,
  options: { attempts?: number; maxOtherPct?: number; maxWaitMs?: number; pgPids?: () => Promise<readonly number[]> } = {},
): Promise<QuietRun<T>> {
  const attempts = options.attempts ?? 2;
  const maxOtherPct = options.maxOtherPct ?? 25;
  let best: QuietRun<T> | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await waitForQuiet(maxOtherPct, options.maxWaitMs ?? 15_000);
    const meter = new CpuMeter(options.pgPids ? await options.pgPids() : []);
    const result = await run();
    const cpu = meter.stop();
    if (!best || cpu.otherCpuPct < best.cpu.otherCpuPct) best = { result, cpu, attempts: attempt };
    best.attempts = attempt;
    if (cpu.otherCpuPct <= maxOtherPct) break;
    info(`other processes used ${cpu.otherCpuPct}% of a core during the run${attempt < attempts ? '; measuring again' : ''}`);
  }
  return best as QuietRun<T>;
}
