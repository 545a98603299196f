/**
 * The benchmark's V8 profiles (bench/support/v8-profile.ts) and their summary
 * (scripts/profile-summary.ts): a profile taken in-process names the function that used the CPU
 * and allocated, and the summary gives each function's share by itself and with its callees.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V8Profile } from '../bench/support/v8-profile.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'profiles-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function summary(file: string, ...args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/profile-summary.ts', file, ...args]);
  return stdout.trim().split('\n');
}

const frame = (functionName: string, url = 'file:///repo/src/x.ts') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '1' });

describe('the profile summary', () => {
  it('gives the share of the time spent in each function by itself and with what it calls', async () => {
    // (root) -> outer -> inner; 30 µs sampled in outer itself, 70 in inner, 100 idle.
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
        { id: 2, callFrame: frame('outer'), children: [3] },
        { id: 3, callFrame: frame('inner', 'file:///repo/node_modules/dep/lib.js') },
        { id: 4, callFrame: frame('(idle)', '') },
      ],
      startTime: 0,
      endTime: 200,
      samples: [2, 3, 3, 4],
      timeDeltas: [30, 40, 30, 100],
    };
    const file = join(dir, 'synthetic.cpuprofile');
    await writeFile(file, JSON.stringify(profile));
    const lines = await summary(file);
    const self = lines.slice(lines.indexOf('--- self') + 1, lines.indexOf('--- inclusive'));
    const inclusive = lines.slice(lines.indexOf('--- inclusive') + 1);
    expect(self).toEqual(['  50.0 %  (idle) ', '  35.0 %  inner dep/lib.js:1', '  15.0 %  outer src/x.ts:1']);
    expect(inclusive).toEqual(['  50.0 %  outer src/x.ts:1', '  50.0 %  (idle) ', '  35.0 %  inner dep/lib.js:1']);
    // The filter keeps the inclusive rows it names.
    const filtered = await summary(file, '5', 'src/');
    expect(filtered.slice(filtered.indexOf('--- inclusive') + 1)).toEqual(['  50.0 %  outer src/x.ts:1']);
  });

  it('names the function that used the CPU and allocated, in a profile taken in-process', async () => {
    const v8 = new V8Profile();
    await v8.start();
    const kept: string[][] = [];
    function busyAllocating(): void {
      const until = Date.now() + 300;
      while (Date.now() < until) kept.push(Array.from({ length: 64 }, (_, i) => `item ${i} of ${kept.length}`));
      kept.length = 0;
    }
    busyAllocating();
    const [cpuFile, heapFile] = await v8.stop(dir, 'in-process');
    expect(JSON.parse(await readFile(cpuFile as string, 'utf8'))).toHaveProperty('samples');
    const cpu = await summary(cpuFile as string, '400');
    expect(cpu[0]).toMatch(/^\d+\.\d\d s profiled$/);
    expect(cpu.some((line) => line.includes('busyAllocating test/profile-summary.test.ts'))).toBe(true);
    const heap = await summary(heapFile as string, '400');
    expect(heap[0]).toMatch(/MiB allocated \(sampled\)$/);
    expect(heap.some((line) => line.includes('busyAllocating'))).toBe(true);
  });

  it('refuses to stop a profile that was never started', async () => {
    await expect(new V8Profile().stop(dir, 'none')).rejects.toThrow('no V8 profile is running');
  });
});
