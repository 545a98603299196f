/**
 * V8 profiles of one stretch of a process's life, taken from inside it through the inspector:
 * where the CPU went (`.cpuprofile`) and what was allocated (`.heapprofile`, sampled every 4 KiB,
 * counting objects the collector has already freed, so it shows allocation rather than what is
 * still alive). Chrome DevTools opens both (Performance and Memory panels).
 *
 * The HTTP benchmark profiles each measured case this way (BENCH_HTTP_PROFILE=1): a profile of the
 * service's whole life mixed every case, and the 280,000 `/health` requests of the baseline hid
 * what a paid request does.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

/** Profiles the CPU and the allocations of the current process between `start` and `stop`. */
export class V8Profile {
  private session: Session | undefined;

  /** Starts both profilers; a profile already running is dropped first. */
  async start(): Promise<void> {
    await this.drop();
    const session = new Session();
    session.connect();
    // The CPU profile starts last and stops first, so it holds none of the inspector's own work.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    this.session = session;
  }

  /** Stops both and writes `<dir>/<name>.cpuprofile` and `<dir>/<name>.heapprofile`; returns their paths. */
  async stop(dir: string, name: string): Promise<string[]> {
    const session = this.session;
    if (session === undefined) throw new Error('no V8 profile is running');
    this.session = undefined;
    try {
      const { profile: cpu } = await session.post('Profiler.stop');
      const { profile: heap } = await session.post('HeapProfiler.stopSampling');
      await mkdir(dir, { recursive: true });
      const paths = [join(dir, `${name}.cpuprofile`), join(dir, `${name}.heapprofile`)];
      await writeFile(paths[0] as string, JSON.stringify(cpu));
      await writeFile(paths[1] as string, JSON.stringify(heap));
      return paths;
    } finally {
      session.disconnect();
    }
  }

  private async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    await session.post('Profiler.stop').catch(() => undefined);
    await session.post('HeapProfiler.stopSampling').catch(() => undefined);
    session.disconnect();
  }
}
