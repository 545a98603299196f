/**
 * disableAllocationSitePretenuring: V8 stops making pretenuring decisions in the process, and the
 * service turns it off when it starts. V8 prints its pretenuring feedback with
 * `--trace-pretenuring-statistics` only while the feature is on, so a child process that
 * allocates literals which survive collections shows whether it is. (Whether the service turned
 * it off is read from the module's state instead: V8 prints through C's buffered stdout, so its
 * lines cannot be ordered against the service's startup.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { disableAllocationSitePretenuring } from '../../src/util/pretenuring.js';
import { repo } from '../support/service-process.js';

const run = promisify(execFile);
const moduleUrl = (path: string) => pathToFileURL(`${repo}/${path}`).href;

/** The pretenuring feedback lines V8 prints while the child keeps 300,000 literals alive after `setup`. */
async function pretenuringLines(setup: string): Promise<number> {
  const script = `${setup}
const make = (i) => ({ index: i, text: String(i) });
const kept = [];
for (let i = 0; i < 300_000; i++) kept.push(make(i));
console.log('kept', kept.length);`;
  const { stdout } = await run(process.execPath, ['--trace-pretenuring-statistics', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(stdout).toContain('kept 300000');
  return stdout.split('\n').filter((line) => line.includes('pretenuring:')).length;
}

describe('disableAllocationSitePretenuring', () => {
  it('leaves V8 pretenuring on until it is called', async () => {
    expect(await pretenuringLines('')).toBeGreaterThan(0);
  });

  it('turns it off for the process', async () => {
    const setup = `import { disableAllocationSitePretenuring } from '${moduleUrl('src/util/pretenuring.ts')}';
if (disableAllocationSitePretenuring() !== true) throw new Error('the first call should change the setting');
if (disableAllocationSitePretenuring() !== false) throw new Error('a second call should change nothing');`;
    expect(await pretenuringLines(setup)).toBe(0);
  });

  it('is turned off by startService', async () => {
    const env = { LEASING_MODE: 'development', NODE_ENV: 'test', USE_MOCK_DATABASE: 'true', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0' };
    const script = `import { allocationSitePretenuringDisabled } from '${moduleUrl('src/util/pretenuring.ts')}';
import { startService } from '${moduleUrl('src/service.ts')}';
const before = allocationSitePretenuringDisabled();
const service = await startService({ env: ${JSON.stringify(env)}, signals: false });
await service.stop();
console.log(JSON.stringify({ before, after: allocationSitePretenuringDisabled() }));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({ before: false, after: true });
  });

  it('is idempotent in this process', () => {
    disableAllocationSitePretenuring();
    expect(disableAllocationSitePretenuring()).toBe(false);
  });
});
