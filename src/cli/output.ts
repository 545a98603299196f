/**
 * What the commands print: progress on stderr (a redrawn bar on a terminal, one JSON line per
 * step otherwise, so logs and scripts can follow it), reports on stdout, and failures without
 * secrets, with the exit code they mean (0 done and verified; 1 an answer the operator must act
 * on: differences found, a snapshot refused, a non-empty restore target, a schema not current;
 * 2 the command could not run).
 */
import { NotEmptyError } from '../migration/backup.js';
import type { MigrationProgress, MigrationReport } from '../migration/migrate-data.js';
import { SnapshotError } from '../migration/snapshot-format.js';
import { describeError } from '../error-text.js';
import { SchemaNotReadyError } from './store-options.js';

/** A sink for progress events with a final `done()` that ends the bar line. */
export interface ProgressPrinter {
  (progress: MigrationProgress): void;
  done(): void;
}

/** Where progress goes: a stream and whether it is a terminal. */
export interface ProgressTarget {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR = 24;

/** Prints progress to `out` (default stderr): a bar on a TTY, JSON lines otherwise. */
export function progressPrinter(out: ProgressTarget = process.stderr): ProgressPrinter {
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  let rows = 0;
  let previous = new Map<string, number>();
  const print = ((p: MigrationProgress) => {
    // Rows per second counts copied rows across tables, from the `done` deltas.
    const key = `${p.phase}:${p.table}`;
    if (p.phase === 'copy') rows += p.done - (previous.get(key) ?? 0);
    previous.set(key, p.done);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
    if (!out.isTTY) {
      out.write(`${JSON.stringify({ event: 'progress', ...p, rowsPerSecond: rate, elapsedMs: Math.round(seconds * 1000) })}\n`);
      return;
    }
    const now = performance.now();
    const finished = p.total > 0 && p.done >= p.total;
    if (now - lastDraw < 100 && !finished) return;
    lastDraw = now;
    const share = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    const filled = Math.round(share * BAR);
    const line = `${p.phase.padEnd(13)} ${p.table.padEnd(13)} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${p.done}/${p.total || '?'} new ${p.inserted}  ${rate} rows/s`;
    out.write(`\r${line}\x1b[K`);
    drawn = true;
  }) as ProgressPrinter;
  print.done = () => {
    if (drawn) out.write('\n');
    drawn = false;
    previous = new Map();
  };
  return print;
}

/** JSON of a report with its bigint amounts as decimal strings; `indent` pretty-prints. */
export function jsonWithAmounts(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

/** The report as JSON (amounts as decimal strings). */
export function reportJson(report: MigrationReport): string {
  return jsonWithAmounts(report, 2);
}

/** The report as an aligned text table with a verdict line. */
export function reportText(report: MigrationReport): string {
  const head = ['table', 'source', 'target', 'new', 'ids', 'amount sum (source)', 'amount sum (target)', 'ok'];
  const rows = report.tables.map((t) => [
    t.table,
    String(t.sourceCount),
    String(t.targetCount),
    String(t.inserted),
    t.idsMatch ? 'match' : 'DIFFER',
    t.amountSumSource.toString(),
    t.amountSumTarget.toString(),
    t.ok ? 'ok' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const lines = [fmt(head), ...rows.map(fmt)];
  for (const t of report.tables) {
    for (const note of t.notes ?? []) lines.push(`${t.table}: ${note}`);
    if (t.missingIds?.length) lines.push(`${t.table}: missing in target, e.g. ${t.missingIds.join(', ')}`);
    if (t.extraIds?.length) lines.push(`${t.table}: only in target, e.g. ${t.extraIds.join(', ')}`);
  }
  const what = report.dryRun ? 'dry run (nothing written)' : `${report.inserted} new of ${report.records} records`;
  lines.push(`${report.ok ? 'VERIFIED' : 'DIFFERENCES FOUND'}: ${what} from ${report.source} in ${(report.durationMs / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

/** Prints `error` without secrets and returns the exit code it means (1 an answer, 2 a failure to run). */
export function reportFailure(error: unknown, err: { write(text: string): unknown } = process.stderr): 1 | 2 {
  const answer = error instanceof SnapshotError || error instanceof NotEmptyError || error instanceof SchemaNotReadyError;
  err.write(`${error instanceof SnapshotError ? 'snapshot refused, nothing written: ' : 'error: '}${describeError(error)}\n`);
  return answer ? 1 : 2;
}
