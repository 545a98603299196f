/**
 * The benchmark line format (DESIGN.md, "Conventions"): one JSON object per figure on stdout,
 * `{"name", "value", "unit", ...extra}`; progress goes to stderr so stdout stays machine-readable.
 */

/** Prints one figure. `extra` fields are added to the JSON object after name, value and unit. */
export type Report = (name: string, value: number, unit: string, extra?: object) => void;

/** What every benchmark module's `benchX(opts)` receives. */
export interface BenchOptions {
  /** Only figures whose name contains this string are wanted (`npm run bench -- NAME`). */
  filter?: string;
  report: Report;
}

/** Whether the figure `name` is wanted by `filter` (no filter: every figure). */
export function matches(filter: string | undefined, name: string): boolean {
  return filter === undefined || filter === '' || name.includes(filter);
}

/** Whether any of `names` is wanted: used to skip a case's setup when none of its figures is. */
export function anyMatches(filter: string | undefined, names: readonly string[]): boolean {
  return names.some((name) => matches(filter, name));
}

/** Rounds to `digits` decimals (JSON lines stay readable). */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The JSON line of one figure. */
export function formatLine(name: string, value: number, unit: string, extra?: object): string {
  return JSON.stringify({ name, value, unit, ...extra });
}

/** A reporter printing wanted figures to stdout. */
export function stdoutReporter(filter?: string): Report {
  return (name, value, unit, extra) => {
    if (!matches(filter, name)) return;
    process.stdout.write(`${formatLine(name, value, unit, extra)}\n`);
  };
}

const started = Date.now();

/** The wall-clock time of day, UTC, to a tenth of a second: what progress and trace lines carry, so lines of different processes line up. */
export function clock(): string {
  return new Date().toISOString().slice(11, 21);
}

/** Progress and notes, on stderr with the seconds since the run started and the time of day. */
export function info(message: string): void {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s ${clock()}] ${message}\n`);
}
