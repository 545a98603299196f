/**
 * The benchmark runner: `npm run bench` runs every benchmark, `npm run bench -- NAME` only the
 * figures whose name contains NAME. Figures go to stdout as one JSON object per line
 * (`{"name","value","unit",...}`); progress and notes go to stderr.
 *
 * NAME selects in two steps. When it is part of a module's name (`memory`, `sql`, `payments`,
 * `data-migration`, `http`), those modules run in full. Otherwise it filters figures: only the
 * lines whose name contains NAME are printed, and a module runs only when it may print one: a
 * module exports `benchX(opts: BenchOptions)` and, optionally, `names` (every figure it can
 * print); one without `names` runs when NAME starts with its name.
 * The memory benchmark runs in a child process so its RSS is not polluted by the others.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { names as memoryNames } from './memory.js';
import { applyServiceProcessSettings } from './support/process-settings.js';
import { anyMatches, info, stdoutReporter, type BenchOptions, type Report } from './support/report.js';

interface BenchModule {
  names?: readonly string[];
  [fn: string]: unknown;
}

interface Entry {
  name: string;
  /** Source file, relative to bench/. */
  file: string;
  /** Exported benchmark function. */
  fn: string;
  /** Written by another owner; skipped with a note while the file does not exist. */
  optional?: boolean;
  /** Run as `node --expose-gc --import tsx <file> [filter]` and forward its JSON lines. */
  child?: boolean;
}

const ENTRIES: readonly Entry[] = [
  { name: 'memory', file: 'memory.ts', fn: 'benchMemory', child: true },
  { name: 'sql-reads', file: 'sql-reads.ts', fn: 'benchSqlReads' },
  { name: 'payments', file: 'payments.ts', fn: 'benchPayments' },
  { name: 'data-migration', file: 'data-migration.ts', fn: 'benchDataMigration', optional: true },
  { name: 'http', file: 'http.ts', fn: 'benchHttp', optional: true },
  { name: 'scale', file: 'scale.ts', fn: 'benchScale' },
  { name: 'reconcile', file: 'reconcile.ts', fn: 'benchReconcile' },
  { name: 'events', file: 'events.ts', fn: 'benchEvents' },
];

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const repoDir = fileURLToPath(new URL('..', import.meta.url));

/** How a module takes part: not at all, in full, or printing only the figures matching the filter. */
type Selection = { run: false } | { run: true; filter: string | undefined };

function select(entry: Entry, names: readonly string[] | undefined, filter: string | undefined): Selection {
  if (filter === undefined || filter === '') return { run: true, filter: undefined };
  if (ENTRIES.some((e) => e.name.includes(filter))) return entry.name.includes(filter) ? { run: true, filter: undefined } : { run: false };
  const run = names !== undefined ? anyMatches(filter, names) : filter.startsWith(entry.name);
  return run ? { run, filter } : { run: false };
}

/** Runs a module in its own Node process and forwards its figures through `report`. */
async function runChild(file: string, filter: string | undefined, report: Report): Promise<void> {
  const args = ['--expose-gc', '--import', 'tsx', file, ...(filter === undefined ? [] : [filter])];
  const child = spawn(process.execPath, args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  for await (const line of lines) {
    let figure: { name?: unknown; value?: unknown; unit?: unknown } & Record<string, unknown>;
    try {
      figure = JSON.parse(line) as typeof figure;
    } catch {
      process.stderr.write(`${line}\n`);
      continue;
    }
    const { name, value, unit, ...extra } = figure;
    if (typeof name === 'string' && typeof value === 'number' && typeof unit === 'string') report(name, value, unit, extra);
    else process.stderr.write(`${line}\n`);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`${file} exited with code ${code}`);
}

async function main(): Promise<void> {
  const argument = process.argv[2];
  applyServiceProcessSettings();
  for (const entry of ENTRIES) {
    const path = `${benchDir}${entry.file}`;
    try {
      if (entry.child) {
        const selection = select(entry, memoryNames, argument);
        if (!selection.run) continue;
        info(`${entry.name}: running in a child process`);
        await runChild(path, selection.filter, stdoutReporter(selection.filter));
        continue;
      }
      if (!existsSync(path)) {
        if (entry.optional && select(entry, undefined, argument).run) info(`${entry.name}: skipped, bench/${entry.file} does not exist yet`);
        continue;
      }
      const mod = (await import(`./${entry.file}`)) as BenchModule;
      const selection = select(entry, mod.names, argument);
      if (!selection.run) continue;
      const run = mod[entry.fn];
      if (typeof run !== 'function') throw new Error(`bench/${entry.file} does not export ${entry.fn}()`);
      info(`${entry.name}: running`);
      const report = stdoutReporter(selection.filter);
      const opts: BenchOptions = selection.filter === undefined ? { report } : { filter: selection.filter, report };
      await (run as (o: BenchOptions) => Promise<void>)(opts);
    } catch (error) {
      process.exitCode = 1;
      info(`${entry.name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}

await main();
