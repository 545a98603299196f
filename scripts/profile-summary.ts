/**
 * Prints where a V8 profile's time or allocations went, for reading a benchmark's profiles on a
 * machine without DevTools: `npx tsx scripts/profile-summary.ts <file> [rows] [filter]`.
 *
 * - `.cpuprofile` (what `--cpu-prof` and the inspector's Profiler write): each function's share
 *   of the sampled time by itself (self) and with what it called (inclusive), `(idle)` included,
 *   so the shares are of the wall time profiled;
 * - `.heapprofile` (the inspector's sampling heap profiler): each function's share of the bytes
 *   allocated, by itself and with what it called.
 *
 * `filter` keeps the inclusive rows whose name or file contains it (e.g. `src/`).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** A frame as one row: its name and where it is, shortened to the package or the repository path. */
function frameName(frame: CallFrame): string {
  const where = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench|test|scripts)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${where}${where === '' ? '' : `:${frame.lineNumber + 1}`}`;
}

/** Self and inclusive weight per frame name; a name counted once per stack (recursion). */
class Weights {
  readonly self = new Map<string, number>();
  readonly inclusive = new Map<string, number>();
  total = 0;

  add(stack: readonly string[], weight: number): void {
    const leaf = stack.at(-1);
    if (leaf === undefined) return;
    this.total += weight;
    this.self.set(leaf, (this.self.get(leaf) ?? 0) + weight);
    for (const name of new Set(stack)) this.inclusive.set(name, (this.inclusive.get(name) ?? 0) + weight);
  }
}

function cpuWeights(profile: CpuProfile): Weights {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const timeOf = new Map<number, number>();
  profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const weights = new Weights();
  for (const [id, time] of timeOf) {
    const stack: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node !== undefined && node.callFrame.functionName !== '(root)') stack.unshift(frameName(node.callFrame));
    }
    weights.add(stack, time);
  }
  return weights;
}

function heapWeights(head: HeapNode): Weights {
  const weights = new Weights();
  const walk = (node: HeapNode, stack: string[]): void => {
    const here = node.callFrame.functionName === '(root)' ? stack : [...stack, frameName(node.callFrame)];
    if (node.selfSize > 0) weights.add(here, node.selfSize);
    for (const child of node.children) walk(child, here);
  };
  walk(head, []);
  return weights;
}

function print(title: string, rows: Map<string, number>, total: number, count: number, filter?: string): void {
  console.log(title);
  const sorted = [...rows].filter(([name]) => filter === undefined || name.includes(filter)).sort((a, b) => b[1] - a[1]);
  for (const [name, weight] of sorted.slice(0, count)) console.log(`${((100 * weight) / total).toFixed(1).padStart(6)} %  ${name}`);
}

const [file, rowsArg, filter] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: npx tsx scripts/profile-summary.ts <file.cpuprofile|file.heapprofile> [rows] [filter]');
  process.exit(2);
}
const rows = Number(rowsArg ?? 30);
const parsed = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };
const heap = 'head' in parsed;
const weights = heap ? heapWeights(parsed.head) : cpuWeights(parsed);
console.log(heap ? `${(weights.total / 2 ** 20).toFixed(1)} MiB allocated (sampled)` : `${(weights.total / 1e6).toFixed(2)} s profiled`);
print('--- self', weights.self, weights.total, rows);
print('--- inclusive', weights.inclusive, weights.total, rows, filter);
