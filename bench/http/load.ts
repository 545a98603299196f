/**
 * The load: one autocannon run of a case at the benchmark's connections, with where the machine's
 * CPU went meanwhile (the service, this process as the load generator, the rest) and how the
 * service's main thread spent it.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { CpuMeter, MainThreadMeter, processCpuSeconds, type ThreadTime } from '../support/cpu.js';
import { CONNECTIONS } from './settings.js';

/** One run of a case: throughput, latency, the answers, and where the CPU went meanwhile. */
export interface Run {
  rps: number;
  p50: number;
  p99: number;
  /** More of the latency distribution (ms), to see the shape of the tail. */
  tail: { p90: number; p97_5: number; max: number };
  ok: number;
  other: number;
  errors: number;
  cpu: { servicePct: number; loadGeneratorPct: number; restPct: number; cores: number };
  /** How the service's main thread spent the run (undefined without Linux's schedstat). */
  mainThread: ThreadTime | undefined;
}

/** What a case sends: a fixed list of requests (prebuilt by autocannon), or one built per request. */
export type Requests = { method: 'GET'; paths: string[] } | { method: 'POST'; next: () => { path: string; headers: Record<string, string> } };

/** One autocannon run, with where the machine's CPU went meanwhile. */
export async function load(base: string, seconds: number, requests: Requests, servicePid: number): Promise<Run> {
  const meter = new CpuMeter();
  const mainThread = new MainThreadMeter(servicePid);
  const serviceBefore = processCpuSeconds(servicePid);
  const started = performance.now();
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    requests:
      requests.method === 'GET'
        ? requests.paths.map((path) => ({ method: 'GET' as const, path }))
        : [
            {
              method: 'POST',
              setupRequest: (request) => {
                const { path, headers } = requests.next();
                return { ...request, path, headers: { ...request.headers, ...headers } };
              },
            },
          ],
  });
  const cpu = meter.stop();
  const mainThreadTime = mainThread.stop();
  const servicePct = Math.round(((processCpuSeconds(servicePid) - serviceBefore) / ((performance.now() - started) / 1000)) * 100);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    tail: { p90: result.latency.p90, p97_5: result.latency.p97_5, max: result.latency.max },
    ok: result['2xx'],
    other: result.non2xx,
    errors: result.errors + result.timeouts,
    // % of one core; the rest is PostgreSQL plus anything else running on the machine.
    cpu: { servicePct, loadGeneratorPct: cpu.nodeCpuPct, restPct: Math.max(0, cpu.otherCpuPct + cpu.pgCpuPct - servicePct), cores: cpu.cores },
    mainThread: mainThreadTime,
  };
}

