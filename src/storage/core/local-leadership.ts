/**
 * Leadership within one process, for stores that one process owns (memory, PGlite): a name is
 * held by at most one {@link Leadership} of the same registry at a time.
 */
import type { Leadership } from '../contract/chain.js';

/** The leaderships of one store. */
export class LocalLeadership {
  private readonly held = new Set<string>();

  /** The named leadership, or null while another holder has it. */
  tryAcquire(name: string): Leadership | null {
    if (this.held.has(name)) return null;
    this.held.add(name);
    let release!: () => void;
    const lost = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = true;
    return {
      lost,
      isHeld: () => holding,
      release: async () => {
        if (!holding) return;
        holding = false;
        this.held.delete(name);
        release();
      },
    };
  }
}
