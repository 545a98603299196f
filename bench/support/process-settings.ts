/**
 * The process settings the service runs with, applied to a benchmark process that runs the
 * library in-process, so that what it measures is what the service does. Today that is one:
 * V8's allocation-site pretenuring off (src/util/pretenuring.ts). `BENCH_V8_PRETENURING=1` keeps
 * V8's default instead, to measure what the setting changes.
 */
import { disableAllocationSitePretenuring } from '../../src/util/pretenuring.js';
import { info } from './report.js';

/** Applies the service's process settings unless `BENCH_V8_PRETENURING=1`. */
export function applyServiceProcessSettings(): void {
  if (process.env.BENCH_V8_PRETENURING === '1') {
    info('V8 allocation-site pretenuring left on (BENCH_V8_PRETENURING=1): not how the service runs');
    return;
  }
  disableAllocationSitePretenuring();
}
