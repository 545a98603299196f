/**
 * The committed contract artifacts (src/chain/contracts/*.ts) equal a fresh compile of
 * contracts/*.sol with the pinned solc from npm, so they cannot go stale: after editing a
 * contract, run `npm run contracts:build` and commit the result.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import solc from 'solc';
import { ARTIFACTS_DIR, renderArtifacts } from '../../scripts/contract-artifacts.js';

describe('contract artifacts', () => {
  it('are exactly what the pinned solc compiles from contracts/*.sol today', () => {
    const fresh = renderArtifacts();
    expect(readdirSync(ARTIFACTS_DIR).sort()).toEqual([...fresh.keys()].sort());
    for (const [file, content] of fresh) expect(readFileSync(join(ARTIFACTS_DIR, file), 'utf8'), file).toBe(content);
  });

  it('come from the exact solc version pinned in package.json (the npm build, no download)', () => {
    const pinned = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.solc;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(solc.version().startsWith(`${pinned}+`)).toBe(true);
  });
});
