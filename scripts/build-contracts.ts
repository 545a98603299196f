/**
 * `npm run contracts:build`: compiles contracts/*.sol with the pinned solc from npm and writes the
 * generated TypeScript artifacts to src/chain/contracts/ (commit them).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ARTIFACTS_DIR, ROOT, renderArtifacts } from './contract-artifacts.js';

const files = renderArtifacts();
mkdirSync(ARTIFACTS_DIR, { recursive: true });
// A contract that was removed must not leave its old artifact behind.
for (const stale of readdirSync(ARTIFACTS_DIR).filter((f) => !files.has(f))) rmSync(join(ARTIFACTS_DIR, stale));
for (const [file, content] of files) {
  writeFileSync(join(ARTIFACTS_DIR, file), content);
  console.log(`wrote ${relative(ROOT, join(ARTIFACTS_DIR, file))}`);
}
