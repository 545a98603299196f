/**
 * Where a paid request's time goes inside the service, for the HTTP benchmark (issue 14): the
 * service's own objects are wrapped in place (benchmark process only, never the shipped service)
 * so every call of a stage adds its wall time to that stage's total. Stages overlap in time
 * across concurrent requests; per request they are sequential, so "ms per request" of each stage
 * plus the rest (HTTP, JSON and base64 decoding, the early checks, the event-loop queue) is the
 * request's time in the service. CPU and event-loop utilization say whether the service process
 * is the bottleneck (ELU near 1: its one thread is always busy).
 */
import { performance } from 'node:perf_hooks';
import { round } from './report.js';
import { percentile } from './stats.js';

/** Totals of one stage since the last reset. */
export interface StageTotal {
  calls: number;
  ms: number;
  /** The median and 99th percentile of one call's wall time, ms: which stage makes the tail. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What the service reports for an interval (see {@link StageProfiler.snapshot}). */
export interface ProfileSnapshot {
  seconds: number;
  /** CPU of the service process (user + system), in % of one core. */
  cpuPct: number;
  /** Event-loop utilization of the service's main thread, 0..1. */
  eventLoopUtilization: number;
  stages: Record<string, StageTotal>;
}

type AsyncMethod = (...args: never[]) => Promise<unknown>;

/**
 * Accumulates per-stage wall time of wrapped async methods. The wrappers are in place only
 * between {@link start} and {@link stop}: outside, the service runs as shipped (each wrapper is an
 * extra async call per stage, a few per cent of a paid request's main-thread time).
 */
export class StageProfiler {
  /** Each stage's call durations (ms) since the last start. */
  private stages: Record<string, number[]> = {};
  private readonly swaps: Array<{ holder: Record<string, AsyncMethod>; method: string; original: AsyncMethod; own: boolean; timed: AsyncMethod }> = [];
  private running = false;
  private startedAt = performance.now();
  private cpu = process.cpuUsage();
  private elu = performance.eventLoopUtilization();

  /**
   * Prepares a timed call of `target[method]`, counted under `stage`, that replaces it between
   * {@link start} and {@link stop}. The original keeps its `this`; errors pass through unchanged.
   */
  wrap<T extends object>(target: T, method: string, stage: string): void {
    const holder = target as unknown as Record<string, AsyncMethod>;
    const original = holder[method];
    if (typeof original !== 'function') throw new Error(`cannot profile ${stage}: ${method} is not a method`);
    const timed = (async (...args: never[]) => {
      const t0 = performance.now();
      try {
        return await original.apply(target, args);
      } finally {
        (this.stages[stage] ??= []).push(performance.now() - t0);
      }
    }) as AsyncMethod;
    this.swaps.push({ holder, method, original, own: Object.hasOwn(holder, method), timed });
  }

  /** Adds one timed occurrence of `stage` measured by the caller, while an interval runs. */
  record(stage: string, ms: number): void {
    if (this.running) (this.stages[stage] ??= []).push(ms);
  }

  /** Starts a new interval, with the wrappers in place. */
  start(): void {
    for (const { holder, method, timed } of this.swaps) holder[method] = timed;
    this.running = true;
    this.stages = {};
    this.startedAt = performance.now();
    this.cpu = process.cpuUsage();
    this.elu = performance.eventLoopUtilization();
  }

  /** The interval since the last {@link start}, and the originals back in place. */
  stop(): ProfileSnapshot {
    this.running = false;
    // A method from the prototype is uncovered again rather than copied onto the object.
    for (const { holder, method, original, own } of this.swaps) {
      if (own) holder[method] = original;
      else delete holder[method];
    }
    const seconds = (performance.now() - this.startedAt) / 1000;
    const used = process.cpuUsage(this.cpu);
    return {
      seconds,
      cpuPct: Math.round(((used.user + used.system) / 1e6 / seconds) * 100),
      eventLoopUtilization: Math.round(performance.eventLoopUtilization(this.elu).utilization * 100) / 100,
      stages: Object.fromEntries(Object.entries(this.stages).map(([stage, durations]) => [stage, totalOf(durations)])),
    };
  }
}

function totalOf(durations: number[]): StageTotal {
  const sorted = [...durations].sort((a, b) => a - b);
  return { calls: sorted.length, ms: sorted.reduce((sum, ms) => sum + ms, 0), p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted.at(-1) ?? 0) };
}
