/**
 * The package this code belongs to: its root folder (the nearest one above this module that has a
 * `package.json`) and version. Works the same from `src/` (tsx), from `dist/` (compiled) and from
 * an installed copy in `node_modules/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above `from` (default: this module) with a package.json. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

/** `name` and `version` of the package.json at {@link packageRoot}. */
export function packageInfo(): { name: string; version: string } {
  const json = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
  return { name: String(json.name), version: String(json.version) };
}
