/**
 * The figures the HTTP benchmark derives from its runs: CPU per request by part of the machine,
 * the service's profile of a case (CPU, event loop, main thread, the paid request's stages) and the
 * read's main-thread CPU against the paid request's.
 */
import type { ThreadTime } from '../support/cpu.js';
import type { ProfileSnapshot } from '../support/paid-profile.js';
import { round, type Report } from '../support/report.js';
import { percentile } from '../support/stats.js';
import type { Run } from './load.js';
import { PAID, STAGES, type Case } from './settings.js';

/** The CPU (ms) of the service's main thread per answered request of `run`, undefined without schedstat. */
function mainThreadMsPerRequest(run: Run): number | undefined {
  return run.mainThread === undefined ? undefined : run.mainThread.cpuMs / Math.max(1, run.ok + run.other);
}

/**
 * What the two requests cost the main thread, against each other: in each pair, the read's
 * main-thread CPU per request over the paid request's, with how each main thread spent the run.
 * Not a bound: a request's main-thread CPU depends on how much the work of requests in flight is
 * batched together (statements, journal writes, recovery messages), so it changes with the
 * conditions (docs/performance.md, "The main thread waits for a core").
 */
export function reportMainThreadCpuRatio(report: Report, pairs: readonly { read: Run; paid: Run }[]): void {
  const measured = pairs.flatMap((p) => {
    const read = mainThreadMsPerRequest(p.read);
    const paid = mainThreadMsPerRequest(p.paid);
    return read === undefined || paid === undefined || p.paid.mainThread === undefined || p.read.mainThread === undefined
      ? []
      : [{ ratio: read / paid, readMs: read, paidMs: paid, read: p.read.mainThread, paid: p.paid.mainThread }];
  });
  if (measured.length === 0) return;
  const ratio = percentile(measured.map((m) => m.ratio).sort((a, b) => a - b), 50);
  const shares = (t: ThreadTime) => ({ onCpu: round(t.onCpu, 2), waitingForCpu: round(t.waitingForCpu, 2), asleep: round(t.asleep, 2) });
  report('http.paid.profile.mainThreadCpuRatio', round(ratio, 2), 'read / paid', {
    note: "median over the pairs of the read's main-thread CPU per request over the paid request's (not a bound: it moves with how requests batch)",
    pairs: measured.map((m) => ({
      ratio: round(m.ratio, 2),
      readMainThreadMsPerRequest: round(m.readMs, 3),
      paidMainThreadMsPerRequest: round(m.paidMs, 3),
      readMainThread: shares(m.read),
      paidMainThread: shares(m.paid),
    })),
  });
}

/** The CPU (ms) the named parts of the machine spent per answered request of `run`. */
export function cpuMsPerRequest(run: Run, parts: readonly ('service' | 'loadGenerator' | 'rest')[]): number {
  const pct = parts.reduce((sum, part) => sum + run.cpu[`${part}Pct`], 0);
  return ((pct / 100) * 1000) / run.rps;
}

/**
 * The service-side figures of a run: CPU per request and event-loop utilization; for a paid case
 * also each stage's mean wall time per request (a stage called twice per request, like the
 * journal's updates, counts both calls).
 */
export function reportProfile(report: Report, name: Case, run: Run, profile: ProfileSnapshot): void {
  const requests = Math.max(1, run.ok + run.other);
  const cpuMs = (profile.cpuPct / 100) * profile.seconds * 1000;
  report(`http.${name}.profile.serviceCpuPerRequest`, round(cpuMs / requests, 3), 'ms', {
    note: 'CPU of the service process (user + system) over the run, per answered request',
    serviceCpuPct: profile.cpuPct,
    requests,
  });
  report(`http.${name}.profile.eventLoopUtilization`, profile.eventLoopUtilization, 'of the main thread', {
    note: 'near 1: the service thread is busy all the time (or waiting for a core: see mainThread) and is the bottleneck',
  });
  const main = run.mainThread;
  if (main !== undefined) {
    report(`http.${name}.profile.mainThread`, round(main.onCpu, 2), 'of the run on a core', {
      note: "the service's main thread as the scheduler saw it (Linux schedstat): on a core, runnable but waiting for one, or asleep; the event-loop utilization counts the wait as busy",
      waitingForCpu: round(main.waitingForCpu, 2),
      asleep: round(main.asleep, 2),
      cpuMsPerRequest: round(main.cpuMs / requests, 3),
    });
  }
  if (!PAID.includes(name)) return;
  // Every new paid request calls verify once (also when its signature recovery is reused later).
  const paidRequests = Math.max(1, profile.stages['verify']?.calls ?? 0);
  const total = STAGES.filter((s) => s !== 'inService' && s !== 'signatureRecovery' && s !== 'journalAppend').reduce((sum, s) => sum + (profile.stages[s]?.ms ?? 0), 0);
  for (const stage of STAGES) {
    const t = profile.stages[stage] ?? { calls: 0, ms: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    report(`http.${name}.profile.${stage}`, round(t.ms / paidRequests, 3), 'ms/request', {
      callsPerRequest: round(t.calls / paidRequests, 2),
      meanPerCallMs: round(t.ms / Math.max(1, t.calls), 3),
      callP50Ms: t.p50Ms,
      callP99Ms: t.p99Ms,
      callMaxMs: t.maxMs,
      // signatureRecovery sits inside verify/settle and journalAppend inside journal: shares of the timed stages.
      sharePct: round((t.ms / Math.max(1e-9, total)) * 100, 1),
      requestP50Ms: run.p50,
      requestP99Ms: run.p99,
    });
  }
}

