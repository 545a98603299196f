/**
 * The layout's rules (docs/architecture.md), checked on the import graph of `src/` so they cannot
 * drift: no module circles back on another, the storage contract imports no implementation, the
 * arrows point one way, and only the backend folders import a database package.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module of src/ (path relative to src/) and what it imports: src modules and packages. */
function importGraph(): Map<string, { modules: string[]; packages: string[] }> {
  const graph = new Map<string, { modules: string[]; packages: string[] }>();
  const specifier = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const modules: string[] = [];
    const packages: string[] = [];
    for (const match of text.matchAll(specifier)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? '';
      if (spec.startsWith('.')) modules.push(relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
      else packages.push(spec);
    }
    graph.set(relative(SRC, file), { modules, packages });
  }
  return graph;
}

const graph = importGraph();
const inside = (module: string, ...folders: string[]) => folders.some((f) => module === f || module.startsWith(`${f}/`));

/** Imports from modules under `from` into modules matching `to`, as "a -> b" lines. */
function edges(from: string[], to: (target: string) => boolean): string[] {
  const found: string[] = [];
  for (const [module, { modules }] of graph) {
    if (!inside(module, ...from)) continue;
    for (const target of modules) if (to(target)) found.push(`${module} -> ${target}`);
  }
  return found;
}

describe('architecture', () => {
  it('reads every module of src and resolves every relative import to one', () => {
    expect(graph.size).toBeGreaterThan(50);
    const unresolved = [...graph].flatMap(([module, { modules }]) => modules.filter((m) => !graph.has(m)).map((m) => `${module} -> ${m}`));
    expect(unresolved).toEqual([]);
  });

  it('no module circles back on itself through its imports', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (module: string) => {
      state.set(module, 'open');
      stack.push(module);
      for (const next of graph.get(module)?.modules ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(module, 'done');
    };
    for (const module of graph.keys()) if (!state.has(module)) visit(module);
    expect(cycles).toEqual([]);
  });

  it('the storage contract imports nothing outside itself', () => {
    expect(edges(['storage/contract'], (t) => !inside(t, 'storage/contract'))).toEqual([]);
  });

  it('storage imports nothing from the rooms above it', () => {
    expect(edges(['storage'], (t) => !inside(t, 'storage', 'util'))).toEqual([]);
  });

  it('the core imports no backend, and no backend imports another (SQL is shared by postgres and pglite)', () => {
    expect(edges(['storage/contract', 'storage/core'], (t) => inside(t, 'storage/backends'))).toEqual([]);
    expect(edges(['storage/backends/memory'], (t) => inside(t, 'storage/backends') && !inside(t, 'storage/backends/memory'))).toEqual([]);
    expect(edges(['storage/backends/sql'], (t) => inside(t, 'storage/backends') && !inside(t, 'storage/backends/sql'))).toEqual([]);
    for (const driver of ['postgres', 'pglite']) {
      const own = `storage/backends/${driver}`;
      expect(edges([own], (t) => inside(t, 'storage/backends') && !inside(t, own, 'storage/backends/sql'))).toEqual([]);
    }
  });

  it('the leaf modules (util) import nothing from the rest of src', () => {
    expect(edges(['util'], (t) => !inside(t, 'util'))).toEqual([]);
  });

  it('the ledger uses storage only through its contract and core, never a backend', () => {
    expect(edges(['ledger'], (t) => inside(t, 'api', 'cli', 'storage/backends'))).toEqual([]);
  });

  it('the API reaches no backend: only create-database.ts and the entry points choose one', () => {
    expect(edges(['api'], (t) => inside(t, 'storage/backends', 'cli'))).toEqual([]);
  });

  it('the chain room imports only util and the storage contract (never a backend, the ledger or the API)', () => {
    expect(edges(['chain'], (t) => !inside(t, 'chain', 'util', 'storage/contract'))).toEqual([]);
  });

  it('the typed client imports nothing else from src: it works against a remote service', () => {
    expect(edges(['client'], (t) => !inside(t, 'client'))).toEqual([]);
    expect([...graph.keys()].filter((m) => inside(m, 'client')).length).toBeGreaterThan(1);
  });

  it('only the postgres backend imports pg, only the pglite backend imports PGlite', () => {
    const importers = (name: string) =>
      [...graph].filter(([, { packages }]) => packages.some((p) => p === name || p.startsWith(`${name}/`))).map(([module]) => module);
    expect(importers('pg').every((m) => inside(m, 'storage/backends/postgres'))).toBe(true);
    expect(importers('pg').length).toBeGreaterThan(0);
    expect(importers('@electric-sql/pglite').every((m) => inside(m, 'storage/backends/pglite'))).toBe(true);
    expect(importers('@electric-sql/pglite').length).toBeGreaterThan(0);
  });
});
