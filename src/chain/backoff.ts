/**
 * Bounded, jittered exponential backoff: attempt n waits between half and all of
 * min(maxMs, baseMs * 2^n), so retrying clients spread out instead of hammering a node together.
 */

/** Backoff bounds. */
export interface BackoffOptions {
  /** First delay (default 200 ms). */
  baseMs?: number;
  /** Largest delay (default 30 s). */
  maxMs?: number;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, { baseMs = 200, maxMs = 30_000 }: BackoffOptions = {}, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** A sleep that {@link Sleeper.wake} ends early (used to stop loops promptly). */
export class Sleeper {
  private wakeUp: (() => void) | undefined;

  /** Waits `ms`, or less if woken. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Ends the current sleep, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
